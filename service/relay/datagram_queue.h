#pragma once

// The datagrams a UDP association holds for one direction while its budget or its
// socket makes them wait, bounded three ways: in datagrams and in bytes for this
// association, and in bytes for all of one user's associations together (the
// relay's memory per user is what a local attacker would otherwise grow). A
// datagram past any bound is refused, for the caller to drop and count. Shared by
// the epoll and IOCP backends.

#include <atomic>
#include <cstddef>
#include <deque>
#include <memory>
#include <vector>

namespace sluice::relay {

// Bytes queued by every association of one user, against a limit; shared by that
// user's flows (Flow::user_queue).
class UserQueuedBytes {
 public:
  explicit UserQueuedBytes(std::size_t limit) : limit_(limit) {}
  // Takes `n` bytes of the user's allowance; false (and nothing taken) past the limit.
  bool take(std::size_t n);
  // Takes `n` bytes even past the limit (a datagram that is kept whatever the bound).
  void take_anyway(std::size_t n) { held_.fetch_add(n, std::memory_order_relaxed); }
  void give_back(std::size_t n) { held_.fetch_sub(n, std::memory_order_relaxed); }
  std::size_t held() const { return held_.load(std::memory_order_relaxed); }
  std::size_t limit() const { return limit_; }

 private:
  std::atomic<std::size_t> held_{0};
  const std::size_t limit_;
};

struct QueueBounds {
  std::size_t datagrams = 512;
  std::size_t bytes = 1024 * 1024;
};

class DatagramQueue {
 public:
  struct Pending {
    std::vector<char> payload;
    bool paid = false;  // its tokens were taken already
  };

  DatagramQueue() = default;
  ~DatagramQueue();
  DatagramQueue(const DatagramQueue&) = delete;
  DatagramQueue& operator=(const DatagramQueue&) = delete;

  // Queues a copy of the datagram at the back; false when a bound refuses it.
  bool push_back(const char* data, std::size_t size, bool paid);
  // Puts back, at the front, a datagram taken from the socket in this same step that
  // the sink would not take: it is always kept (order matters more than the bound,
  // and one receive batch is small) and counted against every bound.
  void push_front(const char* data, std::size_t size, bool paid);
  // The engine's bounds and the owner's allowance, set before the first datagram.
  // `user` may be null: the flow's owner is not limited per user (an administrator).
  void limit(QueueBounds bounds, std::shared_ptr<UserQueuedBytes> user);
  bool empty() const { return queue_.empty(); }
  std::size_t size() const { return queue_.size(); }
  std::size_t bytes() const { return bytes_; }
  Pending& front() { return queue_.front(); }
  void pop_front();

 private:
  QueueBounds bounds_;
  std::shared_ptr<UserQueuedBytes> user_;
  std::deque<Pending> queue_;
  std::size_t bytes_ = 0;
};

}  // namespace sluice::relay
