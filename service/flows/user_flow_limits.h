#pragma once

// The per-user flow limits and the one table that names them: sluiced's flags and
// sluiced.conf keys (options.cpp), what a reload reports (config_reload.cpp), the
// refusals (flow_manager.cpp) and service.status's "flow_limits" (flow_methods.cpp),
// which sluicectl prints by the names it finds there.

#include <array>
#include <cstddef>

namespace sluice::service {

// What one user may hold of the relay (README "Configuration"). Each refusal is a
// JSON-RPC error naming its key. Administrators (uid 0, the sluice-admin group,
// Windows Administrators) are exempt from the per-user caps when
// `administrators_exempt`, never from the descriptor reserve.
struct UserFlowLimits {
  std::size_t pending_per_user = 256;          // TCP registrations not yet connected
  std::size_t relayed_per_user = 2048;         // TCP flows pending, connecting or open
  std::size_t udp_per_user = 512;              // UDP associations
  std::size_t descriptor_reserve = 1024;       // free descriptors kept for the control plane
  bool administrators_exempt = true;
  std::size_t udp_queued_bytes_per_user = 16 * 1024 * 1024;  // datagrams waiting, all associations
  // A relayed TCP connection that moved no byte either way this long is reset; 0: never
  // (long quiet connections such as SSH are legitimate). The relay engine's setting.
  std::size_t tcp_idle_timeout_seconds = 0;
  bool operator==(const UserFlowLimits&) const = default;
};

// One setting: a count (`count` set) or a switch (`flag` set).
struct FlowLimitSetting {
  const char* key;         // the sluiced.conf key and --flag
  const char* value_name;  // N, BYTES, BOOL
  std::size_t UserFlowLimits::*count = nullptr;
  bool UserFlowLimits::*flag = nullptr;
  std::size_t minimum = 0, maximum = 0;  // counts only
  bool refuses = false;                  // refusals are counted by this key in service.status
  const char* help;                      // sluiced --help, without the range
};

inline constexpr std::array<FlowLimitSetting, 7> kFlowLimitSettings{{
    {"max-pending-flows-per-user", "N", &UserFlowLimits::pending_per_user, nullptr, 1, 1'000'000, true,
     "TCP flow registrations one user may have waiting for their connect"},
    {"max-relayed-flows-per-user", "N", &UserFlowLimits::relayed_per_user, nullptr, 1, 1'000'000, true,
     "relayed TCP flows (pending, connecting or open) one user may hold"},
    {"max-udp-associations-per-user", "N", &UserFlowLimits::udp_per_user, nullptr, 1, 1'000'000, true,
     "UDP associations one user may hold"},
    {"max-udp-queued-bytes-per-user", "BYTES", &UserFlowLimits::udp_queued_bytes_per_user, nullptr, 65536, std::size_t{1} << 30,
     false, "bytes of datagrams one user's UDP associations may hold waiting for their rate"},
    {"descriptor-reserve", "N", &UserFlowLimits::descriptor_reserve, nullptr, 16, 1'000'000, true,
     "free descriptors kept for the control plane: below this, new relayed flows are refused"},
    {"administrators-exempt-from-flow-limits", "BOOL", nullptr, &UserFlowLimits::administrators_exempt, 0, 0, false,
     "whether administrators' own flows are exempt from the per-user limits (never from descriptor-reserve)"},
    {"relay-tcp-idle-timeout", "SECONDS", &UserFlowLimits::tcp_idle_timeout_seconds, nullptr, 0, 7 * 24 * 3600, false,
     "reset a relayed TCP connection that moved no byte either way for this long (0: never, as long quiet "
     "connections such as SSH are legitimate)"},
}};

// The key of the count `field` (constant-evaluated: a field missing from the table does not compile).
consteval const char* flow_limit_key(std::size_t UserFlowLimits::*field) {
  for (const FlowLimitSetting& setting : kFlowLimitSettings) {
    if (setting.count == field) return setting.key;
  }
  throw "not a flow limit";
}

}  // namespace sluice::service
