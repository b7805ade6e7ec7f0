#pragma once

// How sluiced is hosted by its operating system. posix_daemon.cpp runs it in the
// foreground or as a classic double-forked daemon; win_service_runtime.cpp runs it in
// a console or under the service control manager, and win_service_commands.cpp
// implements `sluiced service ...`.

#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "common/stop_signal.h"
#include "control/transport/transport.h"
#include "service/process/exit_code.h"
#include "service/process/host/reload_trigger.h"

namespace sluice::service {

// What the host hands the service body.
struct HostContext {
  StopSignal& stop;                   // requested by SIGINT/SIGTERM, Ctrl-C, or SERVICE_CONTROL_STOP
  std::function<void()> ready;        // call once clients can connect
  bool console = true;                // stderr is a terminal or a log the user reads
  bool event_log = false;             // report lifecycle and problems to the Windows Event Log
  ReloadTrigger reload;               // fired by SIGHUP or SERVICE_CONTROL_PARAMCHANGE
};

using ServiceBody = std::function<ExitCode(HostContext&)>;

// Runs the body until a stop is requested. On POSIX without `foreground`, detaches
// first and returns in the parent only once the body called ready() (or failed),
// so `sluiced && sluicectl status` works. Windows always runs in the foreground.
ExitCode run_interactive(bool foreground, const ServiceBody& body);

// `sluiced service install|uninstall|start|stop|reload|run [options]`. `run_arguments` are
// the options the installed service is started with (--state-dir, --control, ...).
// On POSIX this explains that systemd hosts the daemon, and returns ExitCode::usage.
ExitCode service_command(const std::string& verb, const std::vector<std::string>& run_arguments,
                         const ServiceBody& body);

// Tells the service manager about a change of state when it asked to be told:
// systemd's Type=notify ($NOTIFY_SOCKET set). The host itself sends "READY=1" once
// the body called ready() and "STOPPING=1" when a stop begins; a configuration
// reload is announced with "RELOADING=1" before and "READY=1" after. A no-op when
// no service manager listens, and on Windows (the SCM is told through its own API).
void notify_service_manager(std::string_view state);

// Name under which the Windows service is registered (the clients trust the process
// the SCM runs under this name: control/transport/pipe_trust.h).
inline constexpr const char* kServiceName = transport::kWindowsServiceName;
inline constexpr const char* kServiceDisplayName = "Sluice traffic relay";

}  // namespace sluice::service
