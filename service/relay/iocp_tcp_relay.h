#pragma once

// A relayed TCP connection on the completion port: the application's accepted socket
// and our connection to the destination (ConnectEx, bounded by connect_timeout), with
// one Direction each way. A direction waits for data with a zero-byte WSARecv (no
// buffer pinned while a flow is idle), then reads what is there at once into a
// buffer taken only then, when it has room and its token buckets grant bytes, so a
// full direction or an empty bucket stops reading and the application's own send()
// blocks (or gets WSAEWOULDBLOCK) exactly as with a slow peer. What was read goes
// out with WSASend. An end of stream is passed on as shutdown(SD_SEND) once everything
// before it was sent; a reset is passed on as a reset. With tcp_idle_timeout set, a
// connection that moves nothing for that long is reset.

#include <deque>
#include <memory>
#include <string>

#include "service/relay/idle_deadline.h"
#include "service/relay/iocp_relay.h"

namespace sluice::relay::iocp {

class TcpRelay final : public Relay {
 public:
  // Takes ownership of the accepted application socket.
  TcpRelay(Context& context, std::shared_ptr<Flow> flow, net::win::Socket app_socket);
  ~TcpRelay() override;

 private:
  enum Side { app = 0, destination = 1 };

  struct Chunk {
    Buffer buffer;
    std::size_t size = 0;
  };
  struct Direction {
    Side from, to;
    const std::vector<std::shared_ptr<TokenBucket>>* chain;
    std::atomic<std::uint64_t>* bytes;
    std::atomic<std::uint64_t>* reads;
    Operation read, send;
    Buffer reading;             // what the read under way fills
    std::uint64_t granted = 0;  // tokens the read under way was given
    bool reading_now = false;   // a zero-byte receive is outstanding
    bool readable = false;      // it reported something to read (or the end, or a reset)
    bool sending_now = false;
    std::deque<Chunk> chunks;   // read, not yet sent; the front one is being sent
    std::size_t held = 0;       // bytes in chunks
    std::size_t front_sent = 0; // of the front chunk
    bool eof = false;           // the source ended its stream
    bool shut = false;          // and we passed that on
    Clock::time_point throttled_until{};
    ReadAllowance allowance;
  };

  void start_locked() override;
  void completed_locked(Operation& operation, DWORD bytes, bool succeeded) override;
  void timer_locked(Clock::time_point now) override;
  void resume_locked() override { drive(); }
  void close_sockets_locked(bool clean) override;

  void connected();
  void connect_failed(const std::string& why);
  // Moves what can move, finishing inline completions as they come (up to a budget).
  void drive();
  // One step of a direction; sets `progress`; false when the relay ended.
  bool step(Direction& d, Clock::time_point now, bool& progress);
  bool start_read(Direction& d, Clock::time_point now, bool& progress);
  // Posts the zero-byte receive; false when the relay ended.
  bool wait_readable(Direction& d, bool& progress);
  bool start_send(Direction& d, bool& progress);
  void read_done(Direction& d, std::size_t bytes);
  void send_done(Direction& d, std::size_t bytes);
  // A side failed with `error`: reset the other, end the relay.
  void reset_from(Side side, int error);
  // A socket is usable once it is connected (the application's always is).
  bool ready(Side side) const { return side == app || !connecting_; }

  net::win::Socket socket_[2];
  Operation connect_;
  bool connecting_ = true;
  Clock::time_point connect_deadline_{};
  std::size_t capacity_;  // bytes a direction may hold
  Direction up_, down_;
  IdleDeadline idle_;   // armed once connected
  bool moved_ = false;  // a read or send finished since drive() last stamped idle_
};

}  // namespace sluice::relay::iocp
