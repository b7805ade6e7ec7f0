#pragma once

// A UDP association on the completion port: a loopback socket connected to the
// application's socket (so the system drops datagrams from anyone else) and a socket
// connected to the destination (so only its answers come back). Each socket always
// has a WSARecvFrom outstanding (a datagram over the bound must be seen to be
// dropped); each direction sends one datagram at a time with WSASend (both sockets
// are connected, so no address is named). One over
// budget waits in a bounded queue; one more than the bound is dropped and counted.
// Idle associations close themselves.

#include "service/relay/datagram_queue.h"
#include <memory>
#include <string>
#include <vector>

#include "service/relay/iocp_relay.h"

namespace sluice::relay::iocp {

class UdpAssociation final : public Relay {
 public:
  // Opens and connects both sockets (on the calling thread, so errors reach the
  // registering call). Throws std::system_error.
  UdpAssociation(Context& context, std::shared_ptr<Flow> flow);
  ~UdpAssociation() override;

  // The address the application sends to instead of the destination.
  const net::Endpoint& address() const { return address_; }

 private:
  enum Side { app = 0, destination = 1 };

  struct Direction {
    Side from, to;
    const std::vector<std::shared_ptr<TokenBucket>>* chain;
    std::atomic<std::uint64_t>* bytes;
    std::atomic<std::uint64_t>* packets;
    Operation receive, send;
    Buffer receiving, sending;
    sockaddr_storage sender{};  // written by the outstanding receive
    int sender_length = 0;
    bool receiving_now = false, sending_now = false;
    DatagramQueue queue;  // waiting for budget or for the send in flight
    Clock::time_point throttled_until{};
  };

  void start_locked() override;
  void completed_locked(Operation& operation, DWORD bytes, bool succeeded) override;
  void timer_locked(Clock::time_point now) override;
  void resume_locked() override { drive(); }
  void close_sockets_locked(bool clean) override;

  // Moves what can move, finishing inline completions as they come (up to a budget).
  void drive();
  // One step of a direction; sets `progress`; false when the association ended.
  bool step(Direction& d, Clock::time_point now, bool& progress);
  bool start_receive(Direction& d, Clock::time_point now, bool& progress);
  // Sends the front of the queue if its tokens can be had.
  void flush(Direction& d, Clock::time_point now, bool& progress);
  void start_send(Direction& d, std::size_t size, bool& progress);
  void received(Direction& d, std::size_t size, Clock::time_point now, bool& progress);
  // A receive failed: datagram-level errors are passed over; false when it ended.
  bool receive_failed(Direction& d, int error);
  void sent(Direction& d, std::size_t bytes);
  void enqueue(Direction& d, const char* data, std::size_t size);

  net::win::Socket socket_[2];
  net::Endpoint address_;
  Direction up_, down_;
  Clock::time_point last_activity_;
  Clock::time_point idle_check_at_;  // the one idle check armed at a time
};

}  // namespace sluice::relay::iocp
