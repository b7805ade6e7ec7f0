#include "control/cli/private_file.h"

#include <windows.h>
#include <sddl.h>

#include <filesystem>

#include "common/platform/win_strings.h"
#include "control/cli/cli.h"

namespace sluice::cli {

void write_private_file(const std::string& path, const std::string& text) {
  namespace fs = std::filesystem;
  const std::wstring wide = platform::widen(path);
  const DWORD attributes = GetFileAttributesW(wide.c_str());
  if (attributes != INVALID_FILE_ATTRIBUTES && (attributes & FILE_ATTRIBUTE_DIRECTORY)) {
    throw CommandFailed("cannot write '" + path + "': it is a directory; give a file name, e.g. " + path + "\\policy.json",
                        kExitUsage);
  }
  // The owner, SYSTEM and Administrators only, not inherited from the directory:
  // the same as 0600 (and the administrators who could read it anyway).
  PSECURITY_DESCRIPTOR descriptor = nullptr;
  if (!ConvertStringSecurityDescriptorToSecurityDescriptorW(L"D:P(A;;FA;;;OW)(A;;FA;;;SY)(A;;FA;;;BA)", SDDL_REVISION_1,
                                                            &descriptor, nullptr)) {
    throw CommandFailed("cannot write '" + path + "': " + platform::win32_error_text(GetLastError()));
  }
  SECURITY_ATTRIBUTES security{sizeof(SECURITY_ATTRIBUTES), descriptor, FALSE};
  const std::wstring temporary = wide + L".sluice-" + std::to_wstring(GetCurrentProcessId()) + L".tmp";
  // CREATE_NEW: never an existing file, which could carry an ACL of someone else's.
  HANDLE file = CreateFileW(temporary.c_str(), GENERIC_WRITE, 0, &security, CREATE_NEW, FILE_ATTRIBUTE_NORMAL, nullptr);
  const DWORD create_error = GetLastError();
  LocalFree(descriptor);
  if (file == INVALID_HANDLE_VALUE) {
    const bool no_directory = create_error == ERROR_PATH_NOT_FOUND || create_error == ERROR_INVALID_NAME;
    throw CommandFailed("cannot write '" + path + "': cannot create a file beside it: " + platform::win32_error_text(create_error),
                        no_directory ? kExitUsage : kExitFailure);
  }
  auto fail = [&](const char* what) {
    const DWORD cause = GetLastError();
    if (file != INVALID_HANDLE_VALUE) CloseHandle(file);
    DeleteFileW(temporary.c_str());
    throw CommandFailed("cannot write '" + path + "': " + what + ": " + platform::win32_error_text(cause) + "; nothing was written");
  };
  DWORD written = 0;
  if (!WriteFile(file, text.data(), static_cast<DWORD>(text.size()), &written, nullptr) || written != text.size()) fail("write");
  if (!FlushFileBuffers(file)) fail("flush");
  CloseHandle(file);
  file = INVALID_HANDLE_VALUE;
  if (!MoveFileExW(temporary.c_str(), wide.c_str(), MOVEFILE_REPLACE_EXISTING | MOVEFILE_WRITE_THROUGH)) fail("replace");
}

}  // namespace sluice::cli
