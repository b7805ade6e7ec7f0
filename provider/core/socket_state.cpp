#include "provider/core/socket_state.h"

#include <algorithm>

namespace sluice::provider {

namespace {

std::atomic<SocketState::ReleaseFlow> release_flow{nullptr};

}  // namespace

void SocketState::set_release(ReleaseFlow release) { release_flow.store(release); }

SocketState::~SocketState() {
  auto release = release_flow.load();
  if (release == nullptr) return;
  for (const Route& route : routes_) {
    if (route.kind == RouteKind::relay && route.flow_id != 0) release(route.flow_id);
  }
}

std::optional<Route> SocketState::find(const net::Endpoint& destination) const {
  std::lock_guard lock(mutex_);
  for (const Route& route : routes_) {
    if (route.destination == destination) return route;
  }
  return std::nullopt;
}

Route SocketState::remember(const Route& route) {
  std::lock_guard lock(mutex_);
  for (Route& existing : routes_) {
    if (existing.destination != route.destination) continue;
    // A lasting verdict is kept; a fail-mode stand-in is replaced by whatever is newer.
    if (!existing.retry_after) return existing;
    if (existing.kind == RouteKind::relay) relay_routes_.fetch_sub(1);
    existing = route;
    if (route.kind == RouteKind::relay) relay_routes_.fetch_add(1);
    return existing;
  }
  if (routes_.size() >= kMaxRoutes) {
    auto oldest = std::find_if(routes_.begin(), routes_.end(), [](const Route& r) { return r.kind != RouteKind::relay; });
    if (oldest != routes_.end()) routes_.erase(oldest);
  }
  routes_.push_back(route);
  if (route.kind == RouteKind::relay) relay_routes_.fetch_add(1);
  return route;
}

void SocketState::forget(const Route& route) {
  std::lock_guard lock(mutex_);
  auto it = std::find_if(routes_.begin(), routes_.end(), [&](const Route& r) {
    return r.destination == route.destination && r.kind == route.kind && r.flow_id == route.flow_id &&
           r.service_instance == route.service_instance;
  });
  if (it == routes_.end()) return;
  if (it->kind == RouteKind::relay) relay_routes_.fetch_sub(1);
  routes_.erase(it);
}

void SocketState::set_original_peer(std::optional<net::Endpoint> peer) {
  std::lock_guard lock(mutex_);
  original_peer_ = peer;
}

std::optional<net::Endpoint> SocketState::original_peer() const {
  std::lock_guard lock(mutex_);
  return original_peer_;
}

std::optional<net::Endpoint> SocketState::destination_for_relay(const net::Endpoint& source) const {
  std::lock_guard lock(mutex_);
  for (const Route& route : routes_) {
    if (route.kind == RouteKind::relay && route.relay == source) return route.destination;
  }
  return std::nullopt;
}

std::vector<Route> SocketState::routes() const {
  std::lock_guard lock(mutex_);
  return routes_;
}

std::optional<Route> route_from_answer(const RegisterAnswer& answer, const net::Endpoint& destination, int family, bool udp) {
  Route route;
  route.destination = destination;
  switch (answer.verdict) {
    case Verdict::direct: route.kind = RouteKind::direct; break;
    case Verdict::block: route.kind = RouteKind::block; break;
    case Verdict::relay: {
      auto relay = net::parse_endpoint(answer.relay, answer.relay_port);
      sockaddr_storage probe;
      if (!relay || net::to_sockaddr(*relay, family, probe) == 0) return std::nullopt;
      route.kind = RouteKind::relay;
      route.relay = *relay;
      route.flow_id = udp ? answer.flow_id : 0;
      route.service_instance = answer.service_instance;
      break;
    }
  }
  return route;
}

}  // namespace sluice::provider
