# Warnings for our own targets only (third-party targets are built with theirs).
add_library(sluice_warnings INTERFACE)
if(MSVC)
  target_compile_options(sluice_warnings INTERFACE /W4 /permissive-)
else()
  target_compile_options(sluice_warnings INTERFACE -Wall -Wextra -Wpedantic -Wno-missing-field-initializers)
endif()
if(WIN32)
  # Unicode Win32 API, no min/max macros, Windows 7+ (GetNamedPipeClientProcessId,
  # CancelIoEx, SetFileCompletionNotificationModes).
  target_compile_definitions(sluice_warnings INTERFACE UNICODE _UNICODE NOMINMAX WIN32_LEAN_AND_MEAN _WIN32_WINNT=0x0601)
endif()
