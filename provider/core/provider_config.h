#pragma once

// What a provider needs before it has heard from the service: where the service
// listens and what to do when it does not answer, parsed here once for both
// providers with the same bounds. Defaults, then a provider.conf text ("key = value"
// lines, '#' comments; the Linux provider's /etc/sluice/provider.conf), then the
// environment; the service's answers then carry the administrator's fail mode and
// timeout, which win for the rest of the process's life (flow_router.h).
//
//   SLUICE_CONTROL              the control endpoint (control = ...), as the
//                               platform's EndpointRule accepts it
//   SLUICE_FAIL_MODE            open | closed    (fail_mode = ...)
//   SLUICE_PROVIDER_TIMEOUT_MS  1-60000          (timeout_ms = ...)
//   SLUICE_PROVIDER_DISABLE=1   leave this process (and its children) alone

#include <chrono>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "provider/core/registration.h"

namespace sluice::provider {

// The platform's control endpoint: its default and what a given one must be (a
// Unix socket's absolute path; a \\.\pipe\ name).
struct EndpointRule {
  std::string default_endpoint;
  bool (*accepts)(std::string_view endpoint) = nullptr;
  const char* requirement = "";  // said in a problem: "control must be <requirement>"
};

struct ProviderConfig {
  bool disabled = false;
  std::string control;
  FailMode fail_mode = FailMode::open;
  std::chrono::milliseconds timeout{250};
  // Lines of the file or values of the environment that were ignored, for the
  // diagnostics sluice-run prints; a provider itself never writes to a program's
  // output.
  std::vector<std::string> problems;
};

inline constexpr unsigned kMaxTimeoutMs = 60'000;

// The defaults, with the platform's endpoint.
ProviderConfig default_config(const EndpointRule& rule);

using Lookup = std::function<std::optional<std::string>(const char* name)>;

// Applies a provider.conf text over `config`; problems name `file_name` and the line.
void apply_config_file(std::string_view text, std::string_view file_name, const EndpointRule& rule, ProviderConfig& config);
// Applies the environment (through `lookup`; unset and empty are the same) over `config`.
void apply_environment(const Lookup& lookup, const EndpointRule& rule, ProviderConfig& config);

// Whether `executable_path` is the service's own program (sluiced, sluiced.exe, by
// its last path component, whatever the case). The Linux preload leaves such a
// process alone, or the relay's connections would be steered back into itself. The
// Windows LSP does not ask: a name is anyone's to take, and sluiced's sockets come
// from the base provider's catalog entry, so no LSP is ever under them.
bool is_service_program(std::string_view executable_path);

}  // namespace sluice::provider
