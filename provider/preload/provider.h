#pragma once

// The provider inside one process: its configuration, its socket table, its channel
// to the service and the steering core (provider/core/steering.h) that decides each
// flow, created on first use and never destroyed (a program's last calls, in its own
// destructors, still find them). The extern "C" functions in interpose.cpp only
// forward here.

#include <sys/socket.h>

#include <cerrno>
#include <cstdint>
#include <memory>

#include "provider/core/provider_config.h"
#include "provider/core/service_client.h"
#include "provider/core/steering.h"
#include "provider/preload/posix_control_channel.h"
#include "provider/preload/posix_system_calls.h"
#include "provider/preload/socket_table.h"

namespace sluice::preload {

class Provider {
 public:
  explicit Provider(provider::ProviderConfig config);

  bool enabled() const { return !config_.disabled; }
  SocketTable& table() { return table_; }
  ControlChannel& channel() { return channel_; }
  provider::ServiceClient& client() { return client_; }
  provider::Steering& steering() { return steering_; }

  // The state of fd, learned now (and kept) if the table has none yet. Null for
  // descriptors beyond the table.
  std::shared_ptr<SocketState> state_of(int fd);

  // The errno a refused flow fails with: "connection refused" for TCP, "permission
  // denied" for UDP (as the kernel says for a firewall-refused datagram), and for a
  // lost association what the kernel tells a connected socket of a closed port.
  static constexpr provider::RefusalErrors kRefusalErrors{ECONNREFUSED, EACCES, ECONNREFUSED};

 private:
  provider::ProviderConfig config_;
  SocketTable table_;
  Errno errno_;
  ControlChannel channel_;
  provider::ServiceClient client_;  // after channel_ and errno_, which it uses
  provider::Steering steering_;     // after client_
};

// The process's provider, created on first call.
Provider& provider();

}  // namespace sluice::preload
