// The Win32 side of pipe_trust.h: the server's pid from the pipe, its token user,
// the caller's own, and what the service control manager says about that pid.
// Every failure becomes a fact ("unreadable", "not the service"), never trust.

#include "control/transport/win_pipe_server.h"

#include <sddl.h>

#include <memory>

#include "common/platform/win_strings.h"
#include "control/transport/transport.h"

namespace sluice::transport {
namespace {

struct HandleCloser {
  void operator()(HANDLE h) const { CloseHandle(h); }
};
using Handle = std::unique_ptr<void, HandleCloser>;

struct ServiceHandleCloser {
  void operator()(SC_HANDLE h) const { CloseServiceHandle(h); }
};
using ServiceHandle = std::unique_ptr<std::remove_pointer_t<SC_HANDLE>, ServiceHandleCloser>;

std::string sid_string(PSID sid) {
  wchar_t* text = nullptr;
  if (!ConvertSidToStringSidW(sid, &text)) return {};
  std::string result = platform::narrow(text);
  LocalFree(text);
  return result;
}

// The token user of `token` as "S-1-5-...", or "" with `error` set.
std::string token_user(HANDLE token, std::string& error) {
  DWORD size = 0;
  GetTokenInformation(token, TokenUser, nullptr, 0, &size);
  if (size == 0) {
    error = "GetTokenInformation: " + platform::win32_error_text(GetLastError());
    return {};
  }
  std::string buffer(size, '\0');
  if (!GetTokenInformation(token, TokenUser, buffer.data(), size, &size)) {
    error = "GetTokenInformation: " + platform::win32_error_text(GetLastError());
    return {};
  }
  PSID sid = reinterpret_cast<TOKEN_USER*>(buffer.data())->User.Sid;
  // IsWellKnownSid is the system's own test; the string form is what the decision compares.
  if (IsWellKnownSid(sid, WinLocalSystemSid)) return std::string(kLocalSystemSid);
  return sid_string(sid);
}

std::string process_user(DWORD pid, std::string& error) {
  Handle process(OpenProcess(PROCESS_QUERY_LIMITED_INFORMATION, FALSE, pid));
  if (!process) {
    error = "OpenProcess: " + platform::win32_error_text(GetLastError());
    return {};
  }
  HANDLE raw = nullptr;
  if (!OpenProcessToken(process.get(), TOKEN_QUERY, &raw)) {
    error = "OpenProcessToken: " + platform::win32_error_text(GetLastError());
    return {};
  }
  Handle token(raw);
  return token_user(token.get(), error);
}

std::string own_user() {
  HANDLE raw = nullptr;
  if (!OpenProcessToken(GetCurrentProcess(), TOKEN_QUERY, &raw)) return {};
  Handle token(raw);
  std::string ignored;
  return token_user(token.get(), ignored);
}

// True when the SCM reports the 'sluice' service as running in process `pid`.
// Only administrators may install or reconfigure that service.
bool is_sluice_service(DWORD pid) {
  ServiceHandle scm(OpenSCManagerW(nullptr, nullptr, SC_MANAGER_CONNECT));
  if (!scm) return false;
  ServiceHandle service(OpenServiceW(scm.get(), platform::widen(kWindowsServiceName).c_str(), SERVICE_QUERY_STATUS));
  if (!service) return false;
  SERVICE_STATUS_PROCESS status{};
  DWORD needed = 0;
  if (!QueryServiceStatusEx(service.get(), SC_STATUS_PROCESS_INFO, reinterpret_cast<BYTE*>(&status), sizeof status,
                            &needed)) {
    return false;
  }
  return status.dwProcessId != 0 && status.dwProcessId == pid;
}

std::string account_name(const std::string& sid_text) {
  PSID sid = nullptr;
  if (!ConvertStringSidToSidW(platform::widen(sid_text).c_str(), &sid)) return {};
  wchar_t name[256];
  wchar_t domain[256];
  DWORD name_len = 256;
  DWORD domain_len = 256;
  SID_NAME_USE use;
  std::string result;
  if (LookupAccountSidW(nullptr, sid, name, &name_len, domain, &domain_len, &use)) {
    std::wstring account = domain_len ? std::wstring(domain, domain_len) + L"\\" : std::wstring();
    result = platform::narrow(account + std::wstring(name, name_len));
  }
  LocalFree(sid);
  return result;
}

}  // namespace

PipeServerFacts pipe_server_facts(HANDLE pipe, const std::string& endpoint, bool default_name) {
  PipeServerFacts facts;
  facts.endpoint = endpoint;
  facts.default_name = default_name;
  ULONG pid = 0;
  if (GetNamedPipeServerProcessId(pipe, &pid)) {
    facts.pid = pid;
    facts.sid = process_user(pid, facts.token_error);
  } else {
    facts.token_error = "GetNamedPipeServerProcessId: " + platform::win32_error_text(GetLastError());
  }
  facts.caller_sid = own_user();
  if (needs_service_check(facts)) facts.is_service = is_sluice_service(facts.pid);
  return facts;
}

void require_trusted_server(HANDLE pipe, const std::string& endpoint, bool default_name) {
  PipeServerFacts facts = pipe_server_facts(pipe, endpoint, default_name);
  PipeTrust trust = judge_pipe_server(facts);
  if (trust.trusted) return;
  if (!facts.sid.empty()) facts.account = account_name(facts.sid);  // only for the message
  throw TransportError(ErrorKind::untrusted, judge_pipe_server(facts).reason);
}

}  // namespace sluice::transport
