#pragma once

// What survives exec: a relayed socket keeps its descriptor across exec, but the new
// program image starts with an empty socket table. Before exec the provider writes
// the relayed sockets' state into the new image's environment (SLUICE_PROVIDER_HANDOFF);
// the provider loaded into the new image takes it back, for descriptors that are
// still the same socket (same inode), and drops the variable.
//
// Text form, one entry per socket, separated by spaces:
//   FD/INODE/FAMILY/udp|tcp/PEER/ROUTE+ROUTE...
// PEER is IP#PORT or '-', a ROUTE is DEST_IP#PORT>RELAY_IP#PORT>FLOW_ID.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "provider/preload/socket_table.h"

namespace sluice::preload {

inline constexpr const char* kHandoffVariable = "SLUICE_PROVIDER_HANDOFF";

struct HandoffEntry {
  int fd = -1;
  std::uint64_t inode = 0;
  int family = 0;
  bool udp = false;
  std::optional<net::Endpoint> original_peer;
  std::vector<Route> relay_routes;
  bool operator==(const HandoffEntry&) const;
};

std::string encode_handoff(const std::vector<HandoffEntry>& entries);
// Entries that do not parse are skipped: a damaged variable costs the state, nothing more.
std::vector<HandoffEntry> decode_handoff(std::string_view text);

// The environment for exec: `environment` without any earlier handoff, plus this
// process's relayed sockets that stay open across exec.
std::vector<std::string> environment_for_exec(char* const* environment, SocketTable& table);
// Restores what an exec handed over into `table`.
void restore_handoff(std::string_view text, SocketTable& table);

}  // namespace sluice::preload
