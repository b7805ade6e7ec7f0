#pragma once

// What the provider knows of each descriptor: whether it is a socket it steers at
// all (IPv4/IPv6 TCP or UDP), where a relayed connect really goes, and for UDP the
// verdict per destination. Learned once per socket, so later calls cost a lookup:
// descriptors index a table of lazily allocated chunks, guarded by striped spin locks
// that are held only to copy a pointer. dup'd descriptors share one state; the state
// (and the relay flows it holds) ends with the last of them.

#include <array>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <vector>

#include "provider/preload/net_address.h"

namespace sluice::preload {

enum class RouteKind : std::uint8_t { direct, relay, block };

// The verdict for one destination, and where a relayed one goes instead.
struct Route {
  NetAddress destination;
  RouteKind kind = RouteKind::direct;
  NetAddress relay;              // relay only
  std::uint64_t flow_id = 0;     // relay only
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
  std::optional<Route> find(const NetAddress& destination) const;
  // Keeps `route` unless another thread got there first; returns the route that stands.
  // At most kMaxRoutes are kept: the oldest direct or block verdicts make room.
  Route remember(const Route& route);

  // A relayed connect: the destination the program asked for, which getpeername shows.
  void set_original_peer(std::optional<NetAddress> peer);
  std::optional<NetAddress> original_peer() const;

  // The destination whose relay address `source` is (UDP replies), if any.
  std::optional<NetAddress> destination_for_relay(const NetAddress& source) const;
  bool has_relay_routes() const { return relay_routes_.load(std::memory_order_relaxed) > 0; }

  std::vector<Route> routes() const;

  static constexpr std::size_t kMaxRoutes = 256;

 private:
  const int family_;
  const bool steered_;
  const bool udp_;
  mutable std::mutex mutex_;
  std::vector<Route> routes_;
  std::optional<NetAddress> original_peer_;
  std::atomic<int> relay_routes_{0};
};

class SocketTable {
 public:
  static constexpr int kMaxDescriptors = 1 << 20;  // higher descriptors are left alone

  SocketTable();
  ~SocketTable();
  SocketTable(const SocketTable&) = delete;
  SocketTable& operator=(const SocketTable&) = delete;

  std::shared_ptr<SocketState> get(int fd) const;
  void set(int fd, std::shared_ptr<SocketState> state);
  // Forgets fd and hands back what it held, for the caller to drop outside any lock.
  std::shared_ptr<SocketState> take(int fd);
  // `to` now refers to what `from` does (dup, dup2, F_DUPFD); returns what `to` held.
  std::shared_ptr<SocketState> duplicate(int from, int to);
  // Every descriptor with a steered state, in order.
  void for_each(const std::function<void(int fd, const std::shared_ptr<SocketState>&)>& visit) const;

  // Held across fork() so the child never inherits a lock taken mid-update.
  void lock_all();
  void unlock_all();

 private:
  static constexpr int kChunkBits = 12;
  static constexpr int kChunkSize = 1 << kChunkBits;
  static constexpr int kChunks = kMaxDescriptors / kChunkSize;
  static constexpr int kStripes = 64;
  struct Chunk {
    std::shared_ptr<SocketState> slots[kChunkSize];
  };
  class SpinLock {
   public:
    void lock() {
      while (flag_.test_and_set(std::memory_order_acquire)) {
      }
    }
    void unlock() { flag_.clear(std::memory_order_release); }

   private:
    std::atomic_flag flag_ = ATOMIC_FLAG_INIT;
  };

  std::shared_ptr<SocketState>* slot(int fd, bool create);
  SpinLock& stripe(int fd) const { return stripes_[static_cast<unsigned>(fd) % kStripes]; }

  std::array<std::atomic<Chunk*>, kChunks> chunks_{};
  mutable std::array<SpinLock, kStripes> stripes_;
};

}  // namespace sluice::preload
