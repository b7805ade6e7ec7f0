// Windows host at run time: sluiced in a console (Ctrl-C stops it) or under the
// service control manager (ServiceMain, the control handler, the reported status).
// The `sluiced service ...` commands that install and drive it are in
// win_service_commands.cpp.

#include <windows.h>

#include <iostream>
#include <mutex>
#include <string>

#include "common/platform/win_strings.h"
#include "service/process/host/host.h"
#include "service/process/host/win_service_runtime.h"

namespace sluice::service {
namespace {

using platform::widen;
using platform::win32_error_text;

constexpr DWORD kStartWaitHintMs = 30'000;
constexpr DWORD kStopWaitHintMs = 30'000;

// --- console ----------------------------------------------------------------------

// The console control handler runs on a thread of its own that Windows creates; it
// only reaches the body through these. The mutex keeps the handler from touching the
// StopSignal once run_interactive() has let it go.
std::mutex g_console_mutex;
StopSignal* g_console_stop = nullptr;
HANDLE g_console_done = nullptr;  // set once the body has returned

// Requests the stop; false when no body is running (let the default handler act).
bool request_console_stop() {
  std::lock_guard lock(g_console_mutex);
  if (!g_console_stop) return false;
  g_console_stop->request();
  return true;
}

BOOL WINAPI console_handler(DWORD event) {
  switch (event) {
    case CTRL_C_EVENT:
    case CTRL_BREAK_EVENT: return request_console_stop();
    case CTRL_CLOSE_EVENT:
    case CTRL_LOGOFF_EVENT:
    case CTRL_SHUTDOWN_EVENT:
      // Windows ends the process as soon as this handler returns (and after about
      // 5 s regardless), so give the body that long to close the database cleanly.
      if (!request_console_stop()) return FALSE;
      WaitForSingleObject(g_console_done, 4'500);
      return TRUE;
    default: return FALSE;
  }
}

// --- under the service control manager ------------------------------------------

// ServiceMain and the control handler are called by the SCM with no user context,
// so the state they share lives here. Only one service runs per process.
struct ServiceState {
  const ServiceBody* body = nullptr;
  SERVICE_STATUS_HANDLE handle = nullptr;
  StopSignal* stop = nullptr;
  ReloadTrigger* reload = nullptr;
  ExitCode code = ExitCode::ok;
  std::mutex mutex;  // SetServiceStatus is called from ServiceMain's thread and the handler's
  SERVICE_STATUS status{};
};
ServiceState g_service;

// Caller holds g_service.mutex.
void report_status_locked(DWORD state, DWORD exit_code = NO_ERROR, DWORD specific_code = 0) {
  SERVICE_STATUS& s = g_service.status;
  s.dwServiceType = SERVICE_WIN32_OWN_PROCESS;
  s.dwCurrentState = state;
  // Stop and shutdown are accepted only while running: before that the body has
  // nothing to stop, and the SCM queues nothing for a service that refuses.
  s.dwControlsAccepted =
      state == SERVICE_RUNNING ? SERVICE_ACCEPT_STOP | SERVICE_ACCEPT_SHUTDOWN | SERVICE_ACCEPT_PARAMCHANGE : 0;
  s.dwWin32ExitCode = exit_code;
  s.dwServiceSpecificExitCode = specific_code;
  const bool pending = state == SERVICE_START_PENDING || state == SERVICE_STOP_PENDING;
  s.dwCheckPoint = pending ? s.dwCheckPoint + 1 : 0;
  s.dwWaitHint = state == SERVICE_START_PENDING ? kStartWaitHintMs : state == SERVICE_STOP_PENDING ? kStopWaitHintMs : 0;
  SetServiceStatus(g_service.handle, &s);
}

void report_status(DWORD state, DWORD exit_code = NO_ERROR, DWORD specific_code = 0) {
  std::lock_guard lock(g_service.mutex);
  report_status_locked(state, exit_code, specific_code);
}

DWORD WINAPI service_control_handler(DWORD control, DWORD /*event_type*/, void* /*event_data*/, void* /*context*/) {
  switch (control) {
    case SERVICE_CONTROL_STOP:
    case SERVICE_CONTROL_SHUTDOWN: {
      // Under the lock, so that a body that has just returned by itself (and is
      // about to report SERVICE_STOPPED) is not reported as stopping afterwards.
      std::lock_guard lock(g_service.mutex);
      if (g_service.stop) {
        report_status_locked(SERVICE_STOP_PENDING);
        g_service.stop->request();
      }
      return NO_ERROR;
    }
    case SERVICE_CONTROL_PARAMCHANGE: {
      // `sc control sluice paramchange`: read sluiced.conf again, as SIGHUP does on Linux.
      // Under the lock, so that service_main cannot destroy the trigger meanwhile.
      std::lock_guard lock(g_service.mutex);
      if (g_service.reload) g_service.reload->fire();
      return NO_ERROR;
    }
    case SERVICE_CONTROL_INTERROGATE: return NO_ERROR;  // the SCM keeps the last reported status
    default: return ERROR_CALL_NOT_IMPLEMENTED;
  }
}

void WINAPI service_main(DWORD /*argc*/, wchar_t** /*argv: the start parameters; ours are in binPath*/) {
  g_service.handle = RegisterServiceCtrlHandlerExW(windows_service_name(), service_control_handler, nullptr);
  if (!g_service.handle) {
    g_service.code = ExitCode::service_manager;
    return;  // without a status handle nothing can be reported; the SCM sees the process end
  }
  report_status(SERVICE_START_PENDING);

  StopSignal stop;
  {
    std::lock_guard lock(g_service.mutex);
    g_service.stop = &stop;
  }
  HostContext context{stop, [] { report_status(SERVICE_RUNNING); }, /*console=*/false, /*event_log=*/true};
  {
    std::lock_guard lock(g_service.mutex);
    g_service.reload = &context.reload;
  }
  ExitCode code;
  try {
    code = (*g_service.body)(context);
  } catch (...) {
    code = ExitCode::runtime_error;  // nothing may unwind into the SCM's dispatcher thread
  }
  g_service.code = code;
  // The handler may still run (a late STOP); it must find a live StopSignal or none.
  std::lock_guard lock(g_service.mutex);
  g_service.stop = nullptr;
  g_service.reload = nullptr;
  if (code == ExitCode::ok) {
    report_status_locked(SERVICE_STOPPED);
  } else {
    // The SCM records it; `sluiced service start` and `sc query` show it.
    report_status_locked(SERVICE_STOPPED, ERROR_SERVICE_SPECIFIC_ERROR, static_cast<DWORD>(code));
  }
}

}  // namespace

const wchar_t* windows_service_name() {
  static const std::wstring name = widen(kServiceName);
  return name.c_str();
}

ExitCode run_under_scm(const ServiceBody& body) {
  g_service.body = &body;
  SERVICE_TABLE_ENTRYW table[] = {{const_cast<wchar_t*>(windows_service_name()), service_main}, {nullptr, nullptr}};
  // Returns once ServiceMain has returned and the service reported SERVICE_STOPPED.
  if (!StartServiceCtrlDispatcherW(table)) {
    const DWORD error = GetLastError();
    if (error == ERROR_FAILED_SERVICE_CONTROLLER_CONNECT) {
      std::cerr << "sluiced service run: not started by the service control manager; "
                   "use 'sluiced service start' or run 'sluiced --foreground'"
                << std::endl;
      return ExitCode::usage;
    }
    std::cerr << "sluiced service run: cannot connect to the service control manager: " << win32_error_text(error)
              << std::endl;
    return ExitCode::service_manager;
  }
  return g_service.code;
}

ExitCode run_interactive(bool /*foreground: a console run always is*/, const ServiceBody& body) {
  StopSignal stop;
  if (!g_console_done) g_console_done = CreateEventW(nullptr, TRUE, FALSE, nullptr);  // kept for the process
  ResetEvent(g_console_done);
  {
    std::lock_guard lock(g_console_mutex);
    g_console_stop = &stop;
  }
  SetConsoleCtrlHandler(console_handler, TRUE);

  // Clients can connect once the body calls ready(); it logs that itself.
  HostContext context{stop, [] {}, /*console=*/true};
  ExitCode code;
  try {
    code = body(context);
  } catch (...) {
    code = ExitCode::runtime_error;
  }

  SetConsoleCtrlHandler(console_handler, FALSE);
  {
    std::lock_guard lock(g_console_mutex);
    g_console_stop = nullptr;
  }
  SetEvent(g_console_done);  // releases a handler waiting on close/shutdown
  return code;
}

// The SCM hears about state changes through SetServiceStatus, which this file
// already calls; there is no notification socket to write to.
void notify_service_manager(std::string_view) {}

}  // namespace sluice::service
