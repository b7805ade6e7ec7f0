#include "provider/core/steering.h"

#include <optional>

namespace sluice::provider {

namespace {

std::optional<net::Endpoint> local_address(SocketCalls& calls) {
  sockaddr_storage local{};
  int length = sizeof local;
  if (calls.get_local_address(local, length) != 0) return std::nullopt;
  return net::from_sockaddr(reinterpret_cast<const sockaddr*>(&local), static_cast<socklen_t>(length));
}

// The socket's bound address. The service recognises the relayed connection or
// datagrams by its port: an unbound socket is bound now, to the wildcard address
// with a port of the system's choosing, as connect or sendto would. nullopt when
// that fails. (Winsock's getsockname fails on an unbound socket; POSIX's says port 0.)
std::optional<net::Endpoint> bound_address(const SocketState& state, SocketCalls& calls) {
  auto bound = local_address(calls);
  if (!bound || bound->port == 0) {
    const net::Endpoint any{net::unspecified(state.family() == AF_INET), 0};
    sockaddr_storage wildcard{};
    const int length = static_cast<int>(net::to_sockaddr(any, state.family(), wildcard));  // 0.0.0.0 or ::
    if (length == 0 || calls.bind(reinterpret_cast<const sockaddr*>(&wildcard), length) != 0) return std::nullopt;
    bound = local_address(calls);
  }
  return bound;
}

Steered refused(Refusal why) {
  Steered steered;
  steered.action = Steered::Action::refused;
  steered.refusal = why;
  return steered;
}

}  // namespace

Route Steering::route_to(SocketState& state, const net::Endpoint& destination, SocketCalls& calls) {
  if (auto route = FlowRouter::cached(state, destination)) return *route;
  const PreservedError preserved(errors_);  // the program sees only its own call's error
  return router_.decide(state, destination, bound_address(state, calls));
}

bool Steering::association_lost(SocketState& state, const Route& route) {
  if (!state.udp() || route.kind != RouteKind::relay || route.service_instance == 0) return false;
  if (client_.current_service() == route.service_instance) return false;
  state.forget(route);
  return true;
}

Steered Steering::steer(SocketState& state, const net::Endpoint& destination, bool connecting, SocketCalls& calls) {
  if (!state.steered() || (!state.udp() && !connecting)) return {};
  if (destination.port == 0 || net::is_unspecified(destination.ip)) return {};

  Route route = route_to(state, destination, calls);
  if (association_lost(state, route)) {
    // Its datagrams would vanish into a port nobody holds, and an unconnected socket
    // is told nothing of that: say it once, as the system tells a connected socket;
    // the next datagram is a new flow. A connect decides anew now.
    if (!connecting) return refused(Refusal::association_lost);
    route = route_to(state, destination, calls);
  }
  switch (route.kind) {
    case RouteKind::direct:
      if (connecting) state.set_original_peer(std::nullopt);
      return {};
    case RouteKind::block:
      return refused(state.udp() ? Refusal::refused_datagram : Refusal::refused_tcp);
    case RouteKind::relay: {
      // getpeername reports where the program meant to go, for TCP and UDP alike.
      if (connecting) state.set_original_peer(destination);
      Steered steered;
      steered.action = Steered::Action::redirected;
      steered.target = route.relay;
      return steered;
    }
  }
  return {};
}

}  // namespace sluice::provider
