#pragma once

// A relayed TCP connection: the application's accepted socket and our connection to
// the destination, with one Channel per direction. Bytes are taken from a source
// only when its direction's channel has room and its token buckets grant them, so a
// full channel or an empty bucket stops reading and the application's own send()
// blocks (or gets EAGAIN) exactly as with a slow peer. An end of stream is passed on
// as shutdown(SHUT_WR) once the channel is drained; a reset is passed on as a reset.
// With tcp_idle_timeout set, a connection that moves nothing for that long is reset.

#include <memory>
#include <string>

#include "service/relay/epoll_channel.h"
#include "service/relay/epoll_worker.h"
#include "service/relay/idle_deadline.h"

namespace sluice::relay::epoll {

class TcpRelay final : public Relay {
 public:
  enum Side { app = 0, destination = 1 };

  // Takes ownership of both sockets; `destination_fd` has a connect in progress.
  TcpRelay(std::shared_ptr<Flow> flow, int app_fd, int destination_fd, bool zero_copy, std::size_t buffer_bytes);
  ~TcpRelay() override;

  void start(Worker& worker) override;
  void on_event(Worker& worker, int side, std::uint32_t events) override;
  void on_timer(Worker& worker, Clock::time_point now) override;
  void close(Worker& worker, FlowState state, const std::string& why) override;

 private:
  struct Direction {
    Side from, to;
    Channel channel;
    const std::vector<std::shared_ptr<TokenBucket>>* chain;
    std::atomic<std::uint64_t>* bytes;
    std::atomic<std::uint64_t>* reads;
    bool eof = false;         // the source ended its stream
    bool shut = false;        // and we passed that on
    bool full = false;        // the channel refused more (splice: pipe slots ran out)
    bool blocked = false;     // the sink would not take more
    Clock::time_point throttled_until{};
    ReadAllowance allowance;
  };

  void connected(Worker& worker);
  // Moves what can move; false when the relay ended.
  bool pump(Worker& worker);
  // One step of a direction; sets `progress`; false when the relay ended.
  bool step(Worker& worker, Direction& d, Clock::time_point now, bool& progress);
  void update_interest(Worker& worker);
  std::uint32_t interest(Side side) const;
  // A side failed with `error`: reset the other, end the relay.
  void reset_from(Worker& worker, Side side, int error);

  int fd_[2];
  Handle handle_[2];
  std::uint32_t watched_[2] = {0, 0};
  bool connecting_ = true;
  Direction up_, down_;
  IdleDeadline idle_;  // armed once connected
};

}  // namespace sluice::relay::epoll
