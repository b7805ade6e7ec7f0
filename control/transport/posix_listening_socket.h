#pragma once

// What posix_event_server.cpp needs of the Unix-socket listener that listen() makes
// (posix_transport.cpp): its descriptor, and taking a pending client without waiting,
// with the listener's own care for running out of descriptors (the spare).

#include <optional>

#include "control/protocol/jsonrpc.h"

namespace sluice::transport {

struct AcceptedSocket {
  int fd = -1;               // non-blocking, close-on-exec
  protocol::Caller caller;   // SO_PEERCRED and the pinned process; owns caller.process_handle
};

class ListeningSocket {
 public:
  virtual ~ListeningSocket() = default;
  virtual int native_fd() const = 0;
  // The next pending client, or nullopt when none is pending now (or the one pending
  // was turned away for want of descriptors, and told why).
  virtual std::optional<AcceptedSocket> accept_pending() = 0;
};

}  // namespace sluice::transport
