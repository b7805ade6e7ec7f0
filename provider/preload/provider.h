#pragma once

// The provider inside one process: its configuration, its socket table and its
// connection to the service, created on first use and never destroyed (a program's
// last calls, in its own destructors, still find them), and what it does with each
// intercepted call. The extern "C" functions in interpose.cpp only forward here.

#include <sys/socket.h>

#include <cstdint>
#include <memory>

#include "provider/client/flow_router.h"
#include "provider/preload/control_client.h"
#include "provider/preload/provider_config.h"
#include "provider/preload/socket_table.h"

namespace sluice::preload {

class Provider {
 public:
  explicit Provider(ProviderConfig config);

  bool enabled() const { return !config_.disabled; }
  SocketTable& table() { return table_; }
  ControlClient& client() { return client_; }

  // The state of fd, learned now (and kept) if the table has none yet. Null for
  // descriptors beyond the table.
  std::shared_ptr<SocketState> state_of(int fd);

  // The route to `destination` for a datagram or connect on this socket: cached, or
  // asked of the service now (binding the socket first so the service knows its port).
  Route route_to(int fd, SocketState& state, const net::Endpoint& destination);

  // Whether `route`, a relay route of this UDP socket, died with the service process
  // that set it up (the service is gone, or another process has taken its place):
  // then it is forgotten, so that the next call on the socket asks again.
  bool association_lost(SocketState& state, const Route& route);

  // The errno a refused flow fails with: "connection refused" for TCP, "permission
  // denied" for UDP (as the kernel says for a firewall-refused datagram).
  static int refusal_errno(const SocketState& state);

 private:
  ProviderConfig config_;
  SocketTable table_;
  ControlClient client_;
  provider::FlowRouter router_;  // after client_, which it uses
};

// The process's provider, created on first call.
Provider& provider();

}  // namespace sluice::preload
