#include "common/win_event_source.h"

#include <windows.h>

#include "common/log_sinks.h"
#include "common/platform/win_strings.h"

namespace sluice {
namespace {

std::wstring source_key() {
  return L"SYSTEM\\CurrentControlSet\\Services\\EventLog\\Application\\" + platform::widen(kEventSourceName);
}

std::string failure(const std::string& what, LSTATUS status) {
  return what + " HKLM\\" + platform::narrow(source_key()) + ": " + platform::win32_error_text(static_cast<DWORD>(status));
}

}  // namespace

std::string register_event_source(const std::string& message_file) {
  HKEY key = nullptr;
  LSTATUS status = RegCreateKeyExW(HKEY_LOCAL_MACHINE, source_key().c_str(), 0, nullptr, REG_OPTION_NON_VOLATILE,
                                   KEY_SET_VALUE, nullptr, &key, nullptr);
  if (status != ERROR_SUCCESS) return failure("cannot create", status);
  // REG_EXPAND_SZ, as the Event Log expects for a path (it may hold %SystemRoot%).
  const std::wstring file = platform::widen(message_file);
  status = RegSetValueExW(key, L"EventMessageFile", 0, REG_EXPAND_SZ, reinterpret_cast<const BYTE*>(file.c_str()),
                          static_cast<DWORD>((file.size() + 1) * sizeof(wchar_t)));
  if (status == ERROR_SUCCESS) {
    const DWORD types = EVENTLOG_ERROR_TYPE | EVENTLOG_WARNING_TYPE | EVENTLOG_INFORMATION_TYPE;
    status = RegSetValueExW(key, L"TypesSupported", 0, REG_DWORD, reinterpret_cast<const BYTE*>(&types), sizeof types);
  }
  RegCloseKey(key);
  return status == ERROR_SUCCESS ? std::string() : failure("cannot write", status);
}

std::string remove_event_source() {
  const LSTATUS status = RegDeleteKeyW(HKEY_LOCAL_MACHINE, source_key().c_str());
  if (status == ERROR_SUCCESS || status == ERROR_FILE_NOT_FOUND) return {};
  return failure("cannot remove", status);
}

}  // namespace sluice
