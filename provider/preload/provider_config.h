#pragma once

// What the provider needs before it has heard from the service: where the service
// listens and what to do when it does not answer. Defaults, then
// /etc/sluice/provider.conf ("key = value" lines, '#' comments), then the
// environment; the service's answers then carry the administrator's fail mode and
// timeout, which win for the rest of the process's life.
//
//   SLUICE_CONTROL              control socket   (control = PATH)
//   SLUICE_FAIL_MODE            open | closed    (fail_mode = ...)
//   SLUICE_PROVIDER_TIMEOUT_MS  1-60000          (timeout_ms = ...)
//   SLUICE_PROVIDER_DISABLE=1   leave this process and its children alone

#include <chrono>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "provider/client/registration.h"

namespace sluice::preload {

inline constexpr const char* kConfigFile = "/etc/sluice/provider.conf";
inline constexpr const char* kDefaultControl = "/run/sluice/control.sock";

struct ProviderConfig {
  bool disabled = false;
  std::string control = kDefaultControl;
  provider::FailMode fail_mode = provider::FailMode::open;
  std::chrono::milliseconds timeout{250};
  // Lines of the file or values of the environment that were ignored, for the
  // diagnostics sluice-run prints; the provider itself never writes to a program's
  // output.
  std::vector<std::string> problems;
};

using Lookup = std::function<std::optional<std::string>(const char* name)>;

// Applies a provider.conf text over `config`.
void apply_config_file(std::string_view text, ProviderConfig& config);
// Applies the environment (through `lookup`) over `config`.
void apply_environment(const Lookup& lookup, ProviderConfig& config);

// Defaults, then kConfigFile, then this process's environment: what the provider
// loaded into this process would use (sluice-run reports the problems it finds).
ProviderConfig load_provider_config();

// The program the service itself runs as: never steered, whatever the environment says.
bool is_service_program(std::string_view executable_path);

}  // namespace sluice::preload
