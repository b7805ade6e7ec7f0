#pragma once

// Why sluiced stopped. The value is the process exit status and, on Windows, the
// service-specific exit code reported to the service control manager, so an
// administrator can tell the failing stage from `sc query` or `systemctl status`.

namespace sluice::service {

enum class ExitCode : int {
  ok = 0,
  runtime_error = 1,      // failed after start-up
  usage = 2,              // bad command line or configuration file
  state_dir = 3,          // the state directory cannot be created or used
  database = 4,           // the database cannot be opened or migrated
  control_endpoint = 5,   // the control socket or pipe cannot be bound
  already_running = 6,    // another sluiced owns the control endpoint or the state directory
  service_manager = 7,    // a service install/uninstall/start/stop failed
  logging = 8,            // the log file cannot be opened
  metrics = 9,            // the metrics listener cannot be opened (metrics-listen)
};

const char* describe(ExitCode code);

}  // namespace sluice::service
