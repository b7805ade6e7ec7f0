#pragma once

// What both providers do with a connect or a datagram on one of their sockets,
// decided once, here: the verdict cached on the socket, else the socket bound (if
// it is not) and the service asked with that local address (flow_router.h), the
// program's error code left as it was; then direct, relay (the relay's address and,
// for a connect, the original peer kept for getpeername) or a refusal. And the one
// refusal the service does not give: a relayed UDP association that died with the
// service process that opened it (a restart) fails the next datagram once, and the
// one after that is a new flow. Each provider maps a Refusal to its own error code.

#include <chrono>
#include <cstdint>

#include "provider/core/flow_router.h"
#include "net/socket_address.h"
#include "provider/core/registration.h"
#include "provider/core/socket_state.h"
#include "provider/core/system_calls.h"

namespace sluice::provider {

enum class Refusal : std::uint8_t {
  refused_tcp,       // blocked, or the fail mode is closed: a refused connection
  refused_datagram,  // the same for a datagram: a forbidden destination
  association_lost,  // the relay association died with the service: as an ICMP port unreachable
};

// What a provider's calls fail with for each Refusal, in its own error codes.
struct RefusalErrors {
  int refused_tcp;
  int refused_datagram;
  int association_lost;

  int of(Refusal refusal) const {
    switch (refusal) {
      case Refusal::refused_tcp: return refused_tcp;
      case Refusal::refused_datagram: return refused_datagram;
      case Refusal::association_lost: return association_lost;
    }
    return refused_tcp;
  }
};

struct Steered {
  enum class Action : std::uint8_t { unchanged, redirected, refused };
  Action action = Action::unchanged;
  net::Endpoint target;  // redirected: where the call goes instead
  Refusal refusal = Refusal::refused_tcp;  // refused: why
};

class Steering {
 public:
  Steering(RegistrationClient& client, ErrorCode& errors, FailMode fail_mode, std::chrono::milliseconds timeout)
      : client_(client), errors_(errors), router_(client, fail_mode, timeout) {}

  // A connect (`connecting`; also a TCP Fast Open send) or a datagram from the socket
  // `state` to `destination`; `calls` are that socket's. Unchanged for a socket the
  // provider does not steer, an unspecified destination or port 0, and a stream
  // socket's send (its address is ignored).
  Steered steer(SocketState& state, const net::Endpoint& destination, bool connecting, SocketCalls& calls);

  void release(std::uint64_t flow_id) { client_.release(flow_id); }

 private:
  Route route_to(SocketState& state, const net::Endpoint& destination, SocketCalls& calls);
  // Whether `route`, a relay route of this UDP socket, died with the service process
  // that set it up (the service is gone, or another process has taken its place):
  // then it is forgotten, so that the next call on the socket asks again.
  bool association_lost(SocketState& state, const Route& route);

  RegistrationClient& client_;
  ErrorCode& errors_;
  FlowRouter router_;
};

}  // namespace sluice::provider
