#pragma once

// The Windows host's two halves meet here: the `sluiced service` commands
// (win_service_commands.cpp) start the runtime under the service control manager
// (win_service_runtime.cpp) for `sluiced service run`, and both name the service.

#include "service/process/exit_code.h"
#include "service/process/host/host.h"

namespace sluice::service {

// kServiceName as the service control manager's API takes it.
const wchar_t* windows_service_name();

// `sluiced service run`: hands this thread to the service control manager, which runs
// `body` as the service until it stops; returns the body's exit code, or why the
// service control manager could not be reached (not started by it: ExitCode::usage).
ExitCode run_under_scm(const ServiceBody& body);

}  // namespace sluice::service
