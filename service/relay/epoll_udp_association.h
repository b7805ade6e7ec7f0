#pragma once

// A UDP association: a loopback socket connected to the application's socket (so the
// kernel drops datagrams from anyone else) and a socket connected to the destination
// (so only its answers come back). Datagrams are read and sent in batches with
// recvmmsg/sendmmsg. One over budget waits in a bounded queue; one more than the
// bound is dropped and counted. Idle associations close themselves.

#include <sys/socket.h>

#include "service/relay/datagram_queue.h"
#include <memory>
#include <string>
#include <vector>

#include "service/relay/epoll_worker.h"

namespace sluice::relay::epoll {

struct Worker::Scratch {
  static constexpr unsigned kBatch = 32;
  static constexpr std::size_t kDatagram = 65536;
  std::vector<char> data = std::vector<char>(kBatch * kDatagram);
  mmsghdr messages[kBatch]{};
  iovec vectors[kBatch]{};
};

class UdpAssociation final : public Relay {
 public:
  enum Side { app = 0, destination = 1 };

  // Opens and connects both sockets (on the calling thread, so errors reach the
  // registering call). Throws std::system_error.
  explicit UdpAssociation(std::shared_ptr<Flow> flow);
  ~UdpAssociation() override;

  // The address the application sends to instead of the destination.
  const net::Endpoint& address() const { return address_; }

  void start(Worker& worker) override;
  void on_event(Worker& worker, int side, std::uint32_t events) override;
  void on_timer(Worker& worker, Clock::time_point now) override;
  void close(Worker& worker, FlowState state, const std::string& why) override;

 private:
  struct Direction {
    Side from, to;
    const std::vector<std::shared_ptr<TokenBucket>>* chain;
    std::atomic<std::uint64_t>* bytes;
    std::atomic<std::uint64_t>* packets;
    DatagramQueue queue;
    bool blocked = false;  // the sink returned EAGAIN
    Clock::time_point throttled_until{};
  };

  void forward(Worker& worker, Direction& d, Clock::time_point now);
  // Sends what waits in the queue while budget and socket allow.
  void flush(Worker& worker, Direction& d, Clock::time_point now);
  void enqueue(Worker& worker, Direction& d, const char* data, std::size_t size, bool paid);
  void update_interest(Worker& worker);

  int fd_[2] = {-1, -1};
  Handle handle_[2];
  std::uint32_t watched_[2] = {0, 0};
  net::Endpoint address_;
  Direction up_, down_;
  Clock::time_point last_activity_;
  Clock::time_point idle_check_at_;  // the one idle check armed at a time
};

}  // namespace sluice::relay::epoll
