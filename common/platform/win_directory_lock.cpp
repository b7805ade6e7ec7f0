#include "common/platform/directory_lock.h"

#include <windows.h>

#include <string>

#include "common/platform/win_strings.h"

namespace sluice::platform {
namespace {

// The holder shares its handle for reading only, so a second writer is refused with a
// sharing violation while anyone may still read the pid in it.
std::int64_t read_pid(const std::wstring& path) {
  HANDLE file = CreateFileW(path.c_str(), GENERIC_READ, FILE_SHARE_READ | FILE_SHARE_WRITE, nullptr, OPEN_EXISTING,
                            FILE_ATTRIBUTE_NORMAL, nullptr);
  if (file == INVALID_HANDLE_VALUE) return -1;
  char text[32] = {};
  DWORD n = 0;
  const BOOL ok = ReadFile(file, text, sizeof text - 1, &n, nullptr);
  CloseHandle(file);
  if (!ok || n == 0) return -1;
  char* end = nullptr;
  const long long pid = std::strtoll(text, &end, 10);
  return end != text && pid > 0 ? pid : -1;
}

}  // namespace

DirectoryLock::DirectoryLock(const std::string& directory) {
  const std::string path = directory + "\\" + kFileName;
  const std::wstring wide = widen(path);
  HANDLE file = CreateFileW(wide.c_str(), GENERIC_READ | GENERIC_WRITE, FILE_SHARE_READ, nullptr, OPEN_ALWAYS,
                            FILE_ATTRIBUTE_NORMAL, nullptr);
  if (file == INVALID_HANDLE_VALUE) {
    const DWORD error = GetLastError();
    if (error == ERROR_SHARING_VIOLATION) {
      const std::int64_t holder = read_pid(wide);
      throw DirectoryLocked("another sluiced" + (holder > 0 ? " (pid " + std::to_string(holder) + ")" : std::string()) +
                                " is using the state directory " + directory,
                            holder);
    }
    throw std::runtime_error("cannot open " + path + ": " + win32_error_text(error));
  }
  const std::string pid = std::to_string(GetCurrentProcessId()) + "\r\n";
  DWORD written = 0;
  if (!SetEndOfFile(file) || !WriteFile(file, pid.data(), static_cast<DWORD>(pid.size()), &written, nullptr) ||
      written != pid.size()) {
    const DWORD error = GetLastError();
    CloseHandle(file);
    throw std::runtime_error("cannot write " + path + ": " + win32_error_text(error));
  }
  FlushFileBuffers(file);
  handle_ = reinterpret_cast<std::intptr_t>(file);
}

DirectoryLock::~DirectoryLock() { CloseHandle(reinterpret_cast<HANDLE>(handle_)); }

}  // namespace sluice::platform
