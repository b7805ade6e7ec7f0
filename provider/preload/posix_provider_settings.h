#pragma once

// The Linux provider's settings (provider/core/provider_config.h parses them): the
// file /etc/sluice/provider.conf, then this process's environment. The control
// endpoint is a Unix socket's absolute path.

#include "provider/core/provider_config.h"

namespace sluice::preload {

inline constexpr const char* kConfigFile = "/etc/sluice/provider.conf";
inline constexpr const char* kDefaultControl = "/run/sluice/control.sock";

const provider::EndpointRule& control_rule();

// Defaults, then kConfigFile, then this process's environment: what the provider
// loaded into this process would use (sluice-run reports the problems it finds).
provider::ProviderConfig load_provider_config();

}  // namespace sluice::preload
