; The installer's and the uninstaller's record of what they did. Every step's
; command line, output and exit status goes to the details view (which /S hides)
; and to install.log in the state directory, where an administrator (or a test)
; reads it afterwards: a silent install that could not, say, put the LSP into the
; Winsock catalog must say so somewhere. The log is appended to, so an upgrade or
; an uninstall adds to the history of the earlier runs instead of replacing it.

Var LogFile     ; handle of the open install.log; "" when it could not be opened
Var StepStatus  ; the last step's exit status: a number, or "error" when it could not run
Var StepOutput  ; the last step's output (at most NSIS_MAX_STRLEN characters)

; The same functions for the installer and (prefixed "un.") for the uninstaller:
; NSIS keeps the two apart.
!macro SLUICE_LOG_FUNCTIONS UN
  ; LogOpen PATH: appends to PATH from now on (creating it).
  Function ${UN}LogOpen
    Exch $0
    ClearErrors
    FileOpen $LogFile $0 a
    ${If} ${Errors}
      StrCpy $LogFile ""
      DetailPrint "cannot open $0: the steps are shown in the details view only"
    ${Else}
      FileSeek $LogFile 0 END
    ${EndIf}
    Pop $0
  FunctionEnd

  Function ${UN}LogClose
    ${If} $LogFile != ""
      FileClose $LogFile
      StrCpy $LogFile ""
    ${EndIf}
  FunctionEnd

  ; LogLine TEXT: one line in the details view and in the log.
  Function ${UN}LogLine
    Exch $0
    DetailPrint $0
    ${If} $LogFile != ""
      FileWrite $LogFile "$0$\r$\n"
    ${EndIf}
    Pop $0
  FunctionEnd

  ; RunStep COMMAND_LINE: runs a console program hidden, waits for it (bounded) and
  ; records the command, its output and its exit status ($StepStatus).
  Function ${UN}RunStep
    Exch $0
    Push "> $0"
    Call ${UN}LogLine
    ; Our commands bound their own waits (30 s for a service to start or stop);
    ; the timeout only keeps a hung program from hanging the installer.
    nsExec::ExecToStack /TIMEOUT=120000 $0
    Pop $StepStatus
    Pop $StepOutput
    DetailPrint $StepOutput
    ${If} $LogFile != ""
      FileWrite $LogFile $StepOutput
    ${EndIf}
    Push "  exit status $StepStatus"
    Call ${UN}LogLine
    Pop $0
  FunctionEnd
!macroend
