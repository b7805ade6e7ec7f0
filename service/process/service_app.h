#pragma once

#include "service/process/config_reload.h"
#include "service/process/host/host.h"
#include "service/process/options.h"

namespace sluice::service {

// The service body every host runs: prepares the state directory and log, opens
// and migrates the database, serves the control plane until a stop is requested,
// then shuts down in reverse order. Each failing stage has its own ExitCode.
// `reread` gives the configuration again for a reload (the file under the command
// line the service started with); without one, a reload is refused.
ExitCode run_service(const ServiceConfig& config, HostContext& host, ConfigSource reread = {});

}  // namespace sluice::service
