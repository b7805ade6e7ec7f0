#include "common/platform/platform.h"

#include <windows.h>
#include <shlobj.h>

#include <cstdlib>
#include <system_error>

#include "common/platform/win_strings.h"

namespace sluice::platform {

const char* name() { return "windows"; }

std::int64_t current_pid() { return static_cast<std::int64_t>(GetCurrentProcessId()); }

std::string current_executable() {
  std::wstring buf(32768, L'\0');
  DWORD n = GetModuleFileNameW(nullptr, buf.data(), static_cast<DWORD>(buf.size()));
  buf.resize(n);
  return narrow(buf);
}

std::string process_executable(std::int64_t pid) {
  HANDLE process = OpenProcess(PROCESS_QUERY_LIMITED_INFORMATION, FALSE, static_cast<DWORD>(pid));
  if (!process) return {};
  std::wstring path(32768, L'\0');
  DWORD size = static_cast<DWORD>(path.size());
  const BOOL ok = QueryFullProcessImageNameW(process, 0, path.data(), &size);
  CloseHandle(process);
  if (!ok) return {};
  path.resize(size);
  return narrow(path);
}

std::uint64_t process_start_time(std::int64_t pid) {
  HANDLE process = OpenProcess(PROCESS_QUERY_LIMITED_INFORMATION, FALSE, static_cast<DWORD>(pid));
  if (!process) return 0;
  FILETIME created{}, exited{}, kernel{}, user{};
  const BOOL ok = GetProcessTimes(process, &created, &exited, &kernel, &user);
  CloseHandle(process);
  return ok ? (static_cast<std::uint64_t>(created.dwHighDateTime) << 32) | created.dwLowDateTime : 0;
}

std::intptr_t open_process_handle(std::int64_t pid) {
  HANDLE process = OpenProcess(PROCESS_QUERY_LIMITED_INFORMATION | SYNCHRONIZE, FALSE, static_cast<DWORD>(pid));
  return process ? reinterpret_cast<std::intptr_t>(process) : -1;
}

void close_process_handle(std::intptr_t handle) {
  if (handle != -1) CloseHandle(reinterpret_cast<HANDLE>(handle));
}

bool same_process(std::int64_t pid, std::uint64_t start_time, std::intptr_t handle) {
  // An open handle keeps the process object, and so its pid, from being reused:
  // while it still runs, the pid is still it.
  if (handle != -1) return WaitForSingleObject(reinterpret_cast<HANDLE>(handle), 0) == WAIT_TIMEOUT;
  return start_time == 0 || process_start_time(pid) == start_time;
}

DescriptorUse descriptor_use() {
  DescriptorUse use;
  DWORD handles = 0;
  if (GetProcessHandleCount(GetCurrentProcess(), &handles)) use.open = handles;
  use.limit = 1 << 24;  // Windows' per-process handle limit
  return use;
}

bool stdout_is_terminal() {
  DWORD mode = 0;
  return GetConsoleMode(GetStdHandle(STD_OUTPUT_HANDLE), &mode) != 0;
}

UserIdentity find_user(const std::string& text) {
  // As the transport names a caller: DOMAIN\\name from the account's SID.
  UserIdentity user;
  BYTE sid[SECURITY_MAX_SID_SIZE];
  DWORD sid_size = sizeof sid;
  wchar_t domain[256];
  DWORD domain_len = 256;
  SID_NAME_USE use;
  if (!LookupAccountNameW(nullptr, widen(text).c_str(), sid, &sid_size, domain, &domain_len, &use)) return user;
  wchar_t name[256];
  DWORD name_len = 256;
  domain_len = 256;
  if (LookupAccountSidW(nullptr, sid, name, &name_len, domain, &domain_len, &use)) {
    std::wstring account = domain_len ? std::wstring(domain, domain_len) + L"\\" : std::wstring();
    user.account = narrow(account + std::wstring(name, name_len));
  }
  return user;
}

bool running_as_administrator() {
  SID_IDENTIFIER_AUTHORITY nt_authority = SECURITY_NT_AUTHORITY;
  PSID admins = nullptr;
  if (!AllocateAndInitializeSid(&nt_authority, 2, SECURITY_BUILTIN_DOMAIN_RID, DOMAIN_ALIAS_RID_ADMINS, 0, 0, 0, 0, 0,
                                0, &admins)) {
    return false;
  }
  BOOL member = FALSE;
  if (!CheckTokenMembership(nullptr, admins, &member)) member = FALSE;
  FreeSid(admins);
  return member != FALSE;
}

bool paths_are_case_insensitive() { return true; }

std::string environment(const char* name) {
  std::wstring wname = widen(name);
  DWORD n = GetEnvironmentVariableW(wname.c_str(), nullptr, 0);
  if (n == 0) return {};
  std::wstring value(n, L'\0');
  n = GetEnvironmentVariableW(wname.c_str(), value.data(), n);
  value.resize(n);
  return narrow(value);
}

std::string default_state_dir() {
  wchar_t* program_data = nullptr;
  std::string base = "C:\\ProgramData";
  if (SUCCEEDED(SHGetKnownFolderPath(FOLDERID_ProgramData, 0, nullptr, &program_data))) base = narrow(program_data);
  CoTaskMemFree(program_data);
  return base + "\\Sluice";
}

std::string default_control_endpoint() { return "\\\\.\\pipe\\sluice"; }

std::string client_control_endpoint() { return default_control_endpoint(); }

void create_directories(const std::string& path, bool /*world_readable: ACLs are inherited on Windows*/) {
  for (std::size_t pos = 0; pos <= path.size(); ++pos) {
    if (pos != path.size() && path[pos] != '\\' && path[pos] != '/') continue;
    std::string prefix = path.substr(0, pos);
    if (prefix.empty() || prefix.back() == ':') continue;  // "C:" is not creatable
    if (!CreateDirectoryW(widen(prefix).c_str(), nullptr)) {
      DWORD err = GetLastError();
      if (err != ERROR_ALREADY_EXISTS && err != ERROR_ACCESS_DENIED) {
        throw std::system_error(static_cast<int>(err), std::system_category(), "cannot create directory " + prefix);
      }
    }
  }
  DWORD attrs = GetFileAttributesW(widen(path).c_str());
  if (attrs == INVALID_FILE_ATTRIBUTES || !(attrs & FILE_ATTRIBUTE_DIRECTORY)) {
    throw std::system_error(static_cast<int>(ERROR_DIRECTORY), std::system_category(), "not a directory: " + path);
  }
}

std::string join_path(const std::string& dir, const std::string& leaf) {
  if (dir.empty() || dir.back() == '\\' || dir.back() == '/') return dir + leaf;
  return dir + "\\" + leaf;
}

}  // namespace sluice::platform

namespace sluice::platform {

PathLookup look_up_path(const std::string& path) {
  PathLookup out;
  // Backup semantics open directories too; no access right is asked, only attributes.
  HANDLE file = CreateFileW(widen(path).c_str(), FILE_READ_ATTRIBUTES, FILE_SHARE_READ | FILE_SHARE_WRITE | FILE_SHARE_DELETE,
                            nullptr, OPEN_EXISTING, FILE_FLAG_BACKUP_SEMANTICS, nullptr);
  if (file == INVALID_HANDLE_VALUE) {
    const DWORD error = GetLastError();
    if (error == ERROR_FILE_NOT_FOUND || error == ERROR_PATH_NOT_FOUND || error == ERROR_BAD_NETPATH ||
        error == ERROR_BAD_NET_NAME || error == ERROR_INVALID_NAME) {
      return out;
    }
    out.kind = PathLookup::Kind::unreadable;
    out.error = win32_error_text(error);
    return out;
  }
  std::wstring final_path(32768, L'\0');
  const DWORD n = GetFinalPathNameByHandleW(file, final_path.data(), static_cast<DWORD>(final_path.size()),
                                            FILE_NAME_NORMALIZED | VOLUME_NAME_DOS);
  BY_HANDLE_FILE_INFORMATION info{};
  const BOOL have_info = GetFileInformationByHandle(file, &info);
  const DWORD error = GetLastError();
  CloseHandle(file);
  if (n == 0 || n >= final_path.size() || !have_info) {
    out.kind = PathLookup::Kind::unreadable;
    out.error = win32_error_text(error);
    return out;
  }
  final_path.resize(n);
  // The module path a program reports has no \\?\ prefix: C:\..., or \\server\share\... for UNC.
  if (final_path.starts_with(L"\\\\?\\UNC\\")) final_path = L"\\\\" + final_path.substr(8);
  else if (final_path.starts_with(L"\\\\?\\")) final_path = final_path.substr(4);
  out.real_path = narrow(final_path);
  out.kind = (info.dwFileAttributes & FILE_ATTRIBUTE_DIRECTORY) ? PathLookup::Kind::directory : PathLookup::Kind::file;
  return out;
}

bool is_native_absolute_path(const std::string& path) {
  if (path.size() >= 3 && path[0] != '\\' && path[1] == ':' && (path[2] == '\\' || path[2] == '/')) {
    const char drive = path[0];
    return (drive >= 'A' && drive <= 'Z') || (drive >= 'a' && drive <= 'z');
  }
  return path.size() > 2 && path[0] == '\\' && path[1] == '\\';
}

const char* example_program_path() { return "C:\\Program Files\\App\\app.exe"; }

}  // namespace sluice::platform
