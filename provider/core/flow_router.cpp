#include "provider/core/flow_router.h"

namespace sluice::provider {

namespace {

using Clock = std::chrono::steady_clock;

// How long a fail-mode verdict stands before the service is asked again.
constexpr auto kRetryAfterSilence = std::chrono::seconds(5);

}  // namespace

std::optional<Route> FlowRouter::cached(const SocketState& state, const net::Endpoint& destination) {
  auto route = state.find(destination);
  if (route && route->retry_after && Clock::now() >= *route->retry_after) return std::nullopt;
  return route;
}

Route FlowRouter::fail_mode_route(const net::Endpoint& destination) const {
  Route route;
  route.destination = destination;
  route.kind = fail_mode_.load() == FailMode::open ? RouteKind::direct : RouteKind::block;
  route.retry_after = Clock::now() + kRetryAfterSilence;
  return route;
}

Route FlowRouter::decide(SocketState& state, const net::Endpoint& destination, const std::optional<net::Endpoint>& local) {
  if (!local) return state.remember(fail_mode_route(destination));
  RegisterRequest request;
  request.udp = state.udp();
  request.destination = net::format_ip(destination.ip);
  request.port = destination.port;
  request.local = net::format_ip(local->ip);
  request.local_port = local->port;
  const auto answer = client_.register_flow(request, std::chrono::milliseconds(timeout_ms_.load()));
  if (!answer) return state.remember(fail_mode_route(destination));
  fail_mode_.store(answer->fail_mode);
  timeout_ms_.store(static_cast<int>(answer->timeout_ms));

  const auto route = route_from_answer(*answer, destination, state.family(), state.udp());
  if (!route) return state.remember(fail_mode_route(destination));
  const Route kept = state.remember(*route);
  // Another thread of the program registered the same destination first: ours goes.
  if (route->flow_id != 0 && kept.flow_id != route->flow_id) client_.release(route->flow_id);
  return kept;
}

}  // namespace sluice::provider
