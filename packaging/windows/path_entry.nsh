; Our bin directory on the machine PATH (HKLM ...\Session Manager\Environment),
; and exactly that entry taken out again at uninstall: the other entries, their
; order and any empty ones stay as they were.
;
; NSIS strings hold at most NSIS_MAX_STRLEN (1024) characters. A longer PATH would
; come back cut short (or not at all) and writing it back would destroy it, so a
; PATH that long is left alone and the log says what to add or remove by hand.
;
; The entry the installer added is kept in the uninstall key (value "PathEntry"):
; the uninstaller removes that and nothing else, so a PATH entry that was there
; before Sluice was installed survives its uninstall.

!define SLUICE_ENVIRONMENT_KEY "SYSTEM\CurrentControlSet\Control\Session Manager\Environment"
; A PATH this long may have been cut short on reading.
!define /math SLUICE_PATH_MAX_LENGTH ${NSIS_MAX_STRLEN} - 1

!macro SLUICE_PATH_FUNCTIONS UN
  ; PathWithout: $R0 = a PATH, $R1 = an entry; $R2 = $R0 without the elements equal
  ; to $R1 or to $R1 with a trailing backslash (compared without regard to case, as
  ; Windows does).
  Function ${UN}PathWithout
    Push $R3  ; where the current element starts
    Push $R4  ; index
    Push $R5  ; length of $R0
    Push $R6  ; current character, then element
    Push $R7
    StrCpy $R2 ""  ; the kept elements, each followed by ';'
    StrCpy $R3 0
    StrCpy $R4 0
    StrLen $R5 $R0
    ${Do}
      StrCpy $R6 $R0 1 $R4
      ${If} $R6 == ";"
      ${OrIf} $R4 >= $R5
        IntOp $R7 $R4 - $R3
        StrCpy $R6 $R0 $R7 $R3
        ${If} $R6 != $R1
        ${AndIf} $R6 != "$R1\"
          StrCpy $R2 "$R2$R6;"
        ${EndIf}
        IntOp $R3 $R4 + 1
      ${EndIf}
      ${If} $R4 >= $R5
        ${ExitDo}
      ${EndIf}
      IntOp $R4 $R4 + 1
    ${Loop}
    StrCpy $R2 $R2 -1  ; the ';' after the last kept element
    Pop $R7
    Pop $R6
    Pop $R5
    Pop $R4
    Pop $R3
  FunctionEnd

  ; ReadMachinePath: $R0 = the machine PATH; the error flag is set (and a line
  ; logged) when it cannot be read whole, and then it must not be written.
  Function ${UN}ReadMachinePath
    ClearErrors
    ReadRegStr $R0 HKLM "${SLUICE_ENVIRONMENT_KEY}" "Path"
    ${IfNot} ${Errors}
      StrLen $R2 $R0
      ${If} $R2 >= ${SLUICE_PATH_MAX_LENGTH}
        SetErrors
      ${EndIf}
    ${EndIf}
  FunctionEnd

  Function ${UN}WriteMachinePath
    WriteRegExpandStr HKLM "${SLUICE_ENVIRONMENT_KEY}" "Path" $R2
    ; Running programs (Explorer, so new consoles) reread the environment.
    SendMessage ${HWND_BROADCAST} ${WM_SETTINGCHANGE} 0 "STR:Environment" /TIMEOUT=5000
  FunctionEnd
!macroend

!insertmacro SLUICE_PATH_FUNCTIONS ""
!insertmacro SLUICE_PATH_FUNCTIONS "un."

; AddToMachinePath ENTRY: appends ENTRY unless it is there already; records it in
; the uninstall key when it was added.
Function AddToMachinePath
  Exch $R1
  Push $R0
  Push $R2
  Call ReadMachinePath
  ${If} ${Errors}
    Push "PATH: not changed: the machine PATH cannot be read whole (longer than ${NSIS_MAX_STRLEN} characters?); add $R1 to it yourself"
    Call LogLine
  ${Else}
    Call PathWithout
    ${If} $R2 != $R0
      Push "PATH: $R1 is on it already"
      Call LogLine
    ${Else}
      ${If} $R0 == ""
        StrCpy $R2 $R1
      ${Else}
        StrCpy $R2 $R0 "" -1
        ${If} $R2 == ";"
          StrCpy $R2 "$R0$R1"
        ${Else}
          StrCpy $R2 "$R0;$R1"
        ${EndIf}
      ${EndIf}
      Call WriteMachinePath
      WriteRegStr HKLM "${SLUICE_UNINSTALL_KEY}" "PathEntry" $R1
      Push "PATH: added $R1"
      Call LogLine
    ${EndIf}
  ${EndIf}
  Pop $R2
  Pop $R0
  Pop $R1
FunctionEnd

; RemoveFromMachinePath: removes the entry the installer recorded, if any.
Function un.RemoveFromMachinePath
  Push $R0
  Push $R1
  Push $R2
  ClearErrors
  ReadRegStr $R1 HKLM "${SLUICE_UNINSTALL_KEY}" "PathEntry"
  ${If} ${Errors}
  ${OrIf} $R1 == ""
    Push "PATH: the installer added no entry, nothing to remove"
    Call un.LogLine
  ${Else}
    Call un.ReadMachinePath
    ${If} ${Errors}
      Push "PATH: not changed: the machine PATH cannot be read whole; remove $R1 from it yourself"
      Call un.LogLine
    ${Else}
      Call un.PathWithout
      ${If} $R2 == $R0
        Push "PATH: $R1 is not on it (removed already)"
        Call un.LogLine
      ${Else}
        Call un.WriteMachinePath
        Push "PATH: removed $R1"
        Call un.LogLine
      ${EndIf}
    ${EndIf}
  ${EndIf}
  Pop $R2
  Pop $R1
  Pop $R0
FunctionEnd
