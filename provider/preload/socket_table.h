#pragma once

// The preload provider's table from descriptors to what it knows of each socket
// (provider::SocketState). Learned once per socket, so later calls cost a lookup:
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

#include "provider/core/socket_state.h"

namespace sluice::preload {

using provider::Route;
using provider::RouteKind;
using provider::SocketState;
using net::from_sockaddr;
using net::to_sockaddr;
using net::copy_out;

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
