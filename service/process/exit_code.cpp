#include "service/process/exit_code.h"

namespace sluice::service {

const char* describe(ExitCode code) {
  switch (code) {
    case ExitCode::ok: return "stopped cleanly";
    case ExitCode::runtime_error: return "failed while running";
    case ExitCode::usage: return "bad command line or configuration";
    case ExitCode::state_dir: return "the state directory cannot be used";
    case ExitCode::database: return "the database cannot be opened or migrated";
    case ExitCode::control_endpoint: return "the control endpoint cannot be bound";
    case ExitCode::already_running: return "another sluiced is already running";
    case ExitCode::service_manager: return "the service manager refused the request";
    case ExitCode::logging: return "the log file cannot be opened";
    case ExitCode::metrics: return "the metrics listener cannot be opened";
  }
  return "unknown";
}

}  // namespace sluice::service
