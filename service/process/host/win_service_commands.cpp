// The `sluiced service install|uninstall|start|stop|reload|run` commands, through the
// service control manager. What runs once the service is started is in
// win_service_runtime.cpp.
//
// `start` and `stop` wait until the service is seen running or stopped, so a script
// (or a test) can rely on the state once the command returns, and they report the
// service's own exit code (the ExitCode the body returned) when it fails to start.

#include <windows.h>

#include <chrono>
#include <iostream>
#include <string>
#include <utility>
#include <vector>

#include "common/win_event_source.h"
#include "common/platform/platform.h"
#include "common/platform/win_strings.h"
#include "service/process/host/host.h"
#include "service/process/host/win_service_runtime.h"

namespace sluice::service {
namespace {

using platform::narrow;
using platform::widen;
using platform::win32_error_text;

constexpr auto kPollInterval = std::chrono::milliseconds(100);
constexpr auto kStateChangeTimeout = std::chrono::seconds(30);

class ScHandle {
 public:
  explicit ScHandle(SC_HANDLE h = nullptr) : h_(h) {}
  ScHandle(ScHandle&& other) noexcept : h_(std::exchange(other.h_, nullptr)) {}
  ScHandle& operator=(ScHandle&& other) noexcept {
    if (this != &other) {
      if (h_) CloseServiceHandle(h_);
      h_ = std::exchange(other.h_, nullptr);
    }
    return *this;
  }
  ~ScHandle() {
    if (h_) CloseServiceHandle(h_);
  }
  SC_HANDLE get() const { return h_; }
  explicit operator bool() const { return h_ != nullptr; }

 private:
  SC_HANDLE h_;
};

// Prints "sluiced service VERB: ..." on stdout (success) or stderr (failure).
class Reporter {
 public:
  explicit Reporter(std::string verb) : prefix_("sluiced service " + std::move(verb) + ": ") {}

  void say(const std::string& message) const { std::cout << prefix_ << message << std::endl; }

  ExitCode fail(const std::string& message) const {
    std::cerr << prefix_ << message << std::endl;
    return ExitCode::service_manager;
  }

  // A failed Win32 call, with a hint where the cure is obvious.
  ExitCode fail(const std::string& what, DWORD error) const {
    std::string message = what + ": " + win32_error_text(error);
    if (error == ERROR_ACCESS_DENIED) message += "; run as Administrator";
    return fail(message);
  }

 private:
  std::string prefix_;
};

std::string quoted_service_name() { return std::string("service '") + kServiceName + "'"; }

// Quotes one argument so that the C runtime's command-line parser (used by main())
// gives it back unchanged: backslashes are literal except before a quote.
std::wstring quote_argument(const std::wstring& arg) {
  if (!arg.empty() && arg.find_first_of(L" \t\n\v\"") == std::wstring::npos) return arg;
  std::wstring out = L"\"";
  std::size_t backslashes = 0;
  for (wchar_t c : arg) {
    if (c == L'\\') {
      ++backslashes;
      continue;
    }
    if (c == L'"') {
      out.append(backslashes * 2 + 1, L'\\');
    } else {
      out.append(backslashes, L'\\');
    }
    backslashes = 0;
    out += c;
  }
  out.append(backslashes * 2, L'\\');  // before the closing quote, so it stays a quote
  out += L'"';
  return out;
}

std::wstring service_command_line(const std::vector<std::string>& run_arguments) {
  std::wstring line = L"\"" + widen(platform::current_executable()) + L"\" service run";
  for (const std::string& arg : run_arguments) line += L" " + quote_argument(widen(arg));
  return line;
}

ScHandle open_manager(DWORD access, const Reporter& out, ExitCode& failure) {
  ScHandle scm(OpenSCManagerW(nullptr, nullptr, access));
  if (!scm) failure = out.fail("cannot open the service control manager", GetLastError());
  return scm;
}

bool query(SC_HANDLE service, SERVICE_STATUS_PROCESS& status) {
  DWORD needed = 0;
  return QueryServiceStatusEx(service, SC_STATUS_PROCESS_INFO, reinterpret_cast<BYTE*>(&status), sizeof status,
                              &needed) != FALSE;
}

// Polls until the service leaves the states for which `keep_waiting` is true, or the
// timeout passes. Returns false on timeout or when the status cannot be queried.
template <class Predicate>
bool wait_while(SC_HANDLE service, SERVICE_STATUS_PROCESS& status, Predicate keep_waiting) {
  const auto deadline = std::chrono::steady_clock::now() + kStateChangeTimeout;
  for (;;) {
    if (!query(service, status)) return false;
    if (!keep_waiting(status.dwCurrentState)) return true;
    if (std::chrono::steady_clock::now() >= deadline) return false;
    Sleep(static_cast<DWORD>(kPollInterval.count()));
  }
}

// The exit code a stopped service left: its own ExitCode, or a Win32 error.
std::string describe_exit(const SERVICE_STATUS_PROCESS& status) {
  if (status.dwWin32ExitCode == ERROR_SERVICE_SPECIFIC_ERROR) {
    const DWORD code = status.dwServiceSpecificExitCode;
    return "exit code " + std::to_string(code) + ": " +
           (code <= static_cast<DWORD>(ExitCode::logging) ? describe(static_cast<ExitCode>(code)) : "unknown");
  }
  if (status.dwWin32ExitCode == NO_ERROR) return "exit code 0";
  return "exit code " + std::to_string(status.dwWin32ExitCode) + ": " + win32_error_text(status.dwWin32ExitCode);
}

const char* state_name(DWORD state) {
  switch (state) {
    case SERVICE_STOPPED: return "stopped";
    case SERVICE_START_PENDING: return "starting";
    case SERVICE_STOP_PENDING: return "stopping";
    case SERVICE_RUNNING: return "running";
    case SERVICE_CONTINUE_PENDING: return "continuing";
    case SERVICE_PAUSE_PENDING: return "pausing";
    case SERVICE_PAUSED: return "paused";
    default: return "in an unknown state";
  }
}

// Asks the service to stop and waits until it has: the stop must be seen to finish,
// so that the database is closed and the pipe gone when the command returns.
ExitCode stop_and_wait(SC_HANDLE service, const Reporter& out) {
  SERVICE_STATUS_PROCESS status{};
  SERVICE_STATUS ignored{};
  if (!ControlService(service, SERVICE_CONTROL_STOP, &ignored)) {
    const DWORD error = GetLastError();
    if (error == ERROR_SERVICE_NOT_ACTIVE) {
      out.say(quoted_service_name() + " is already stopped");
      return ExitCode::ok;
    }
    if (error != ERROR_SERVICE_CANNOT_ACCEPT_CTRL) return out.fail("cannot stop " + quoted_service_name(), error);
    // Starting (stop is accepted once it runs) or already stopping.
    if (!wait_while(service, status, [](DWORD s) { return s == SERVICE_START_PENDING; })) {
      return out.fail(quoted_service_name() + " did not finish starting within 30 s, so it cannot be stopped");
    }
    if (status.dwCurrentState == SERVICE_RUNNING && !ControlService(service, SERVICE_CONTROL_STOP, &ignored)) {
      return out.fail("cannot stop " + quoted_service_name(), GetLastError());
    }
  }
  if (!wait_while(service, status, [](DWORD s) { return s != SERVICE_STOPPED; })) {
    return out.fail(quoted_service_name() + " did not stop within 30 s (it is " + state_name(status.dwCurrentState) +
                    ")");
  }
  out.say(quoted_service_name() + " stopped (" + describe_exit(status) + ")");
  return ExitCode::ok;
}

ExitCode install(const std::vector<std::string>& run_arguments) {
  const Reporter out("install");
  ExitCode failure = ExitCode::ok;
  ScHandle scm = open_manager(SC_MANAGER_CONNECT | SC_MANAGER_CREATE_SERVICE, out, failure);
  if (!scm) return failure;

  const std::wstring bin_path = service_command_line(run_arguments);
  const std::wstring display_name = widen(kServiceDisplayName);
  bool created = true;
  ScHandle service(CreateServiceW(scm.get(), windows_service_name(), display_name.c_str(),
                                  SERVICE_CHANGE_CONFIG | SERVICE_QUERY_STATUS, SERVICE_WIN32_OWN_PROCESS,
                                  SERVICE_AUTO_START, SERVICE_ERROR_NORMAL, bin_path.c_str(), nullptr, nullptr,
                                  nullptr, /*LocalSystem*/ nullptr, nullptr));
  if (!service) {
    const DWORD error = GetLastError();
    if (error == ERROR_SERVICE_MARKED_FOR_DELETE) {
      return out.fail(quoted_service_name() +
                      " is still being removed (it is running or open in a tool such as services.msc); "
                      "stop it or close the tool, then install again");
    }
    if (error != ERROR_SERVICE_EXISTS) return out.fail("cannot create " + quoted_service_name(), error);
    // Installed already: bring its configuration up to date (idempotent install).
    created = false;
    service = ScHandle(OpenServiceW(scm.get(), windows_service_name(), SERVICE_CHANGE_CONFIG | SERVICE_QUERY_STATUS));
    if (!service) return out.fail("cannot open " + quoted_service_name(), GetLastError());
    // The account is left alone: an administrator may have chosen another one.
    if (!ChangeServiceConfigW(service.get(), SERVICE_WIN32_OWN_PROCESS, SERVICE_AUTO_START, SERVICE_ERROR_NORMAL,
                              bin_path.c_str(), nullptr, nullptr, nullptr, nullptr, nullptr, display_name.c_str())) {
      return out.fail("cannot update " + quoted_service_name(), GetLastError());
    }
  }

  // Cosmetic (services.msc shows it); Wine does not implement every config level,
  // so a failure here is not a failure of the install.
  std::wstring description =
      L"Relays and meters application traffic by egress policy and bandwidth quotas. "
      L"Manage it with sluicectl.";
  SERVICE_DESCRIPTIONW info{description.data()};
  ChangeServiceConfig2W(service.get(), SERVICE_CONFIG_DESCRIPTION, &info);

  // The service's Event Log entries are shown with their text only when the source
  // names sluiced.exe's message table; re-registered on update, as the path may move.
  if (std::string error = register_event_source(platform::current_executable()); !error.empty()) {
    return out.fail("cannot register the Event Log source: " + error);
  }

  std::string message = quoted_service_name() + (created ? " installed" : " updated") +
                        " (binPath: " + narrow(bin_path) + ")";
  SERVICE_STATUS_PROCESS status{};
  if (!created && query(service.get(), status) && status.dwCurrentState != SERVICE_STOPPED) {
    message += "; it is running: restart it to apply the new settings";
  }
  out.say(message);
  return ExitCode::ok;
}

ExitCode uninstall() {
  const Reporter out("uninstall");
  ExitCode failure = ExitCode::ok;
  ScHandle scm = open_manager(SC_MANAGER_CONNECT, out, failure);
  if (!scm) return failure;
  ScHandle service(OpenServiceW(scm.get(), windows_service_name(), DELETE | SERVICE_STOP | SERVICE_QUERY_STATUS));
  if (!service) {
    const DWORD error = GetLastError();
    if (error == ERROR_SERVICE_DOES_NOT_EXIST) {
      // A half-finished earlier uninstall may have left the Event Log source.
      if (std::string failure = remove_event_source(); !failure.empty()) return out.fail(failure);
      out.say(quoted_service_name() + " is not installed");
      return ExitCode::ok;
    }
    return out.fail("cannot open " + quoted_service_name(), error);
  }
  // Deleting a running service only marks it for deletion; stop it so that it is
  // really gone (and its database closed) when the command returns.
  SERVICE_STATUS_PROCESS status{};
  if (query(service.get(), status) && status.dwCurrentState != SERVICE_STOPPED) {
    if (ExitCode code = stop_and_wait(service.get(), out); code != ExitCode::ok) return code;
  }
  if (!DeleteService(service.get())) {
    const DWORD error = GetLastError();
    if (error == ERROR_SERVICE_MARKED_FOR_DELETE) {
      out.say(quoted_service_name() + " is already being removed");
      return ExitCode::ok;
    }
    return out.fail("cannot remove " + quoted_service_name(), error);
  }
  if (std::string failure = remove_event_source(); !failure.empty()) return out.fail(failure);
  out.say(quoted_service_name() + " removed");
  return ExitCode::ok;
}

ExitCode start() {
  const Reporter out("start");
  ExitCode failure = ExitCode::ok;
  ScHandle scm = open_manager(SC_MANAGER_CONNECT, out, failure);
  if (!scm) return failure;
  ScHandle service(OpenServiceW(scm.get(), windows_service_name(), SERVICE_START | SERVICE_QUERY_STATUS));
  if (!service) {
    const DWORD error = GetLastError();
    if (error == ERROR_SERVICE_DOES_NOT_EXIST) {
      return out.fail(quoted_service_name() + " is not installed; run 'sluiced service install' first");
    }
    return out.fail("cannot open " + quoted_service_name(), error);
  }
  if (!StartServiceW(service.get(), 0, nullptr)) {
    const DWORD error = GetLastError();
    if (error != ERROR_SERVICE_ALREADY_RUNNING) return out.fail("cannot start " + quoted_service_name(), error);
  }
  SERVICE_STATUS_PROCESS status{};
  if (!wait_while(service.get(), status, [](DWORD s) { return s == SERVICE_START_PENDING; })) {
    return out.fail(quoted_service_name() + " did not finish starting within 30 s (it is " +
                    state_name(status.dwCurrentState) + ")");
  }
  if (status.dwCurrentState == SERVICE_RUNNING) {
    out.say(quoted_service_name() + " running (pid " + std::to_string(status.dwProcessId) + ")");
    return ExitCode::ok;
  }
  if (status.dwCurrentState == SERVICE_STOPPED) {
    return out.fail(quoted_service_name() + " stopped during start-up (" + describe_exit(status) +
                    "); see sluiced.log in its state directory");
  }
  return out.fail(quoted_service_name() + " is " + state_name(status.dwCurrentState) + ", not running");
}

// Sends SERVICE_CONTROL_PARAMCHANGE (what `sc control sluice paramchange` sends):
// the running service reads its sluiced.conf again and logs what it applied.
ExitCode reload() {
  const Reporter out("reload");
  ExitCode failure = ExitCode::ok;
  ScHandle scm = open_manager(SC_MANAGER_CONNECT, out, failure);
  if (!scm) return failure;
  ScHandle service(OpenServiceW(scm.get(), windows_service_name(), SERVICE_PAUSE_CONTINUE | SERVICE_QUERY_STATUS));
  if (!service) {
    const DWORD error = GetLastError();
    if (error == ERROR_SERVICE_DOES_NOT_EXIST) return out.fail(quoted_service_name() + " is not installed");
    return out.fail("cannot open " + quoted_service_name(), error);
  }
  SERVICE_STATUS ignored{};
  if (!ControlService(service.get(), SERVICE_CONTROL_PARAMCHANGE, &ignored)) {
    const DWORD error = GetLastError();
    if (error == ERROR_SERVICE_NOT_ACTIVE) return out.fail(quoted_service_name() + " is not running");
    return out.fail("cannot ask " + quoted_service_name() + " to reload", error);
  }
  out.say("asked " + quoted_service_name() + " to read its configuration again; sluiced.log says what it applied");
  return ExitCode::ok;
}

ExitCode stop() {
  const Reporter out("stop");
  ExitCode failure = ExitCode::ok;
  ScHandle scm = open_manager(SC_MANAGER_CONNECT, out, failure);
  if (!scm) return failure;
  ScHandle service(OpenServiceW(scm.get(), windows_service_name(), SERVICE_STOP | SERVICE_QUERY_STATUS));
  if (!service) {
    const DWORD error = GetLastError();
    if (error == ERROR_SERVICE_DOES_NOT_EXIST) return out.fail(quoted_service_name() + " is not installed");
    return out.fail("cannot open " + quoted_service_name(), error);
  }
  return stop_and_wait(service.get(), out);
}

}  // namespace

ExitCode service_command(const std::string& verb, const std::vector<std::string>& run_arguments,
                         const ServiceBody& body) {
  if (verb == "install") return install(run_arguments);
  if (verb == "uninstall") return uninstall();
  if (verb == "start") return start();
  if (verb == "stop") return stop();
  if (verb == "reload") return reload();
  if (verb == "run") return run_under_scm(body);
  std::cerr << "usage: sluiced service install|uninstall|start|stop|run [options]\n"
               "  install    register sluiced with the service control manager (with the options given)\n"
               "  uninstall  stop and remove the service\n"
               "  start      start the service and wait until it runs\n"
               "  stop       stop the service and wait until it has stopped\n"
               "  run        (used by the service control manager) run as the service\n";
  return ExitCode::usage;
}

}  // namespace sluice::service
