#pragma once

// What a provider knows of one socket: whether it steers it at all (IPv4/IPv6 TCP
// or UDP), where a relayed connect really goes, and for UDP the verdict per
// destination. Shared by both providers; each keeps its own table from its handles
// (descriptors, SOCKETs) to these.

#include <atomic>
#include <chrono>
#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <vector>

#include "net/socket_address.h"
#include "provider/core/registration.h"

namespace sluice::provider {

enum class RouteKind : std::uint8_t { direct, relay, block };

// The verdict for one destination, and where a relayed one goes instead.
struct Route {
  net::Endpoint destination;
  RouteKind kind = RouteKind::direct;
  net::Endpoint relay;              // relay only
  std::uint64_t flow_id = 0;     // relay only
  std::int64_t service_instance = 0;  // relay only: the service process that set it up (0: unknown)
  // Set when the service did not answer and the fail mode decided: asked again after this.
  std::optional<std::chrono::steady_clock::time_point> retry_after;
};

class SocketState {
 public:
  // Called with each relay flow id when the last descriptor of a socket is closed.
  using ReleaseFlow = void (*)(std::uint64_t flow_id);
  static void set_release(ReleaseFlow release);

  SocketState(int family, bool steered, bool udp) : family_(family), steered_(steered), udp_(udp) {}
  ~SocketState();
  SocketState(const SocketState&) = delete;
  SocketState& operator=(const SocketState&) = delete;

  int family() const { return family_; }
  bool steered() const { return steered_; }  // an IPv4/IPv6 TCP or UDP socket
  bool udp() const { return udp_; }

  // The cached route to `destination`, if any. A fail-mode stand-in (retry_after set)
  // is the caller's to check: the clock is read only for those, never on the hot path.
  std::optional<Route> find(const net::Endpoint& destination) const;
  // Keeps `route` unless another thread got there first; returns the route that stands.
  // At most kMaxRoutes are kept: the oldest direct or block verdicts make room.
  Route remember(const Route& route);
  // Drops `route` if it still stands (another thread may have replaced it), without
  // releasing its flow: for a relay whose service is gone, so the next call asks anew.
  void forget(const Route& route);

  // A relayed connect: the destination the program asked for, which getpeername shows.
  void set_original_peer(std::optional<net::Endpoint> peer);
  std::optional<net::Endpoint> original_peer() const;

  // The destination whose relay address `source` is (UDP replies), if any.
  std::optional<net::Endpoint> destination_for_relay(const net::Endpoint& source) const;
  bool has_relay_routes() const { return relay_routes_.load(std::memory_order_relaxed) > 0; }

  std::vector<Route> routes() const;

  static constexpr std::size_t kMaxRoutes = 256;

 private:
  const int family_;
  const bool steered_;
  const bool udp_;
  mutable std::mutex mutex_;
  std::vector<Route> routes_;
  std::optional<net::Endpoint> original_peer_;
  std::atomic<int> relay_routes_{0};
};

// The route the service's answer gives for `destination` on a socket of `family`;
// nullopt when it names a relay the socket cannot reach (the caller then applies its
// fail mode). Only UDP keeps the flow id: a TCP flow ends with its connection, while
// a UDP association is released when the socket is closed.
std::optional<Route> route_from_answer(const RegisterAnswer& answer, const net::Endpoint& destination, int family, bool udp);

}  // namespace sluice::provider
