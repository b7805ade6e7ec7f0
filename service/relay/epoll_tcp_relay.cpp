#include "service/relay/epoll_tcp_relay.h"

#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cstring>

#include "net/posix_socket.h"

namespace sluice::relay::epoll {

namespace {

bool is_reset(int error) { return error == ECONNRESET || error == EPIPE || error == ETIMEDOUT || error == EHOSTUNREACH; }

}  // namespace

TcpRelay::TcpRelay(std::shared_ptr<Flow> flow, int app_fd, int destination_fd, bool zero_copy, std::size_t buffer_bytes)
    : Relay(std::move(flow)),
      fd_{app_fd, destination_fd},
      handle_{{this, app}, {this, destination}},
      up_{app, destination, Channel(zero_copy, buffer_bytes), &flow_->limits.up, &flow_->counters.bytes_up,
          &flow_->counters.packets_up},
      down_{destination, app, Channel(zero_copy, buffer_bytes), &flow_->limits.down, &flow_->counters.bytes_down,
            &flow_->counters.packets_down} {}

TcpRelay::~TcpRelay() {
  for (int fd : fd_) {
    if (fd >= 0) ::close(fd);
  }
}

void TcpRelay::start(Worker& worker) {
  // Until a direction's end of stream is passed on, closing its sink must reset it:
  // if this process dies (SIGKILL, a crash) the kernel closes both sockets, and an
  // orderly FIN would make a stream cut short look complete to a program that has no
  // length of its own to check it against.
  for (int fd : fd_) net::posix::set_abortive_close(fd, true);
  idle_ = IdleDeadline(worker.shared().config.tcp_idle_timeout);
  flow_->state = FlowState::connecting;
  watched_[destination] = EPOLLOUT;
  worker.watch(fd_[destination], &handle_[destination], watched_[destination]);
  // The application's socket is watched from the start only for errors and hang-ups
  // (always reported); it is read once the destination answers.
  worker.watch(fd_[app], &handle_[app], 0);
  worker.wake_at(Clock::now() + worker.shared().config.connect_timeout, flow_->id);
}

void TcpRelay::connected(Worker& worker) {
  connecting_ = false;
  net::posix::set_no_delay(fd_[destination]);
  flow_->state = FlowState::open;
  if (const auto first_check = idle_.arm(Clock::now())) worker.wake_at(*first_check, flow_->id);
  if (pump(worker)) update_interest(worker);
}

void TcpRelay::on_event(Worker& worker, int side, std::uint32_t events) {
  if (finished_) return;
  if (connecting_) {
    if (side == destination) {
      const int error = net::posix::pending_error(fd_[destination]);
      if (error != 0 || (events & (EPOLLERR | EPOLLHUP))) {
        worker.shared().counters.tcp_connect_failures++;
        close(worker, FlowState::failed,
              "connect to " + net::format_endpoint(flow_->destination) + ": " + std::strerror(error ? error : ECONNREFUSED));
        return;
      }
      connected(worker);
    } else if (events & (EPOLLERR | EPOLLHUP)) {
      close(worker, FlowState::closed, "the application closed the connection before it was set up");
    }
    return;
  }
  if (events & EPOLLERR) {
    if (const int error = net::posix::pending_error(fd_[side]); error != 0) {
      reset_from(worker, static_cast<Side>(side), error);
      return;
    }
  }
  if (!pump(worker)) return;
  if (events & EPOLLHUP) {
    // Both directions of this socket are gone and pump() took what it still held:
    // nothing more can pass, so the other side is told the same way.
    reset_from(worker, static_cast<Side>(side), ECONNRESET);
    return;
  }
  update_interest(worker);
}

void TcpRelay::on_timer(Worker& worker, Clock::time_point now) {
  if (finished_) return;
  if (connecting_) {
    // The connect deadline is the only timer armed while connecting.
    worker.shared().counters.tcp_connect_failures++;
    close(worker, FlowState::failed, "connect to " + net::format_endpoint(flow_->destination) + ": timed out");
    return;
  }
  const IdleDeadline::Verdict idle = idle_.check(now);
  if (idle.idle) {
    worker.shared().counters.tcp_idle_closed++;
    close(worker, FlowState::closed, idle_reason(idle_));
    return;
  }
  if (idle.recheck) worker.wake_at(*idle.recheck, flow_->id);
  if (pump(worker)) update_interest(worker);
}

bool TcpRelay::step(Worker& worker, Direction& d, Clock::time_point now, bool& progress) {
  // The program's volume cap is reached: this direction reads no more, and once what
  // it holds is delivered the connection is reset, so the program sees it cut short.
  const std::uint64_t room = d.eof ? 0 : flow_->volume_room(d.channel.space());
  if (!d.eof && room == 0 && flow_->volume_stops()) {
    if (d.channel.size() == 0) {
      worker.shared().counters.volume_closed++;
      close(worker, FlowState::closed, kVolumeCapReached);
      return false;
    }
  } else if (!d.eof && !d.full && now >= d.throttled_until && room > 0) {
    const std::uint64_t granted = d.allowance.grant(*d.chain, room, now, d.throttled_until);
    if (granted == 0) {
      worker.wake_at(d.throttled_until, flow_->id);
    } else {
      const IoResult r = d.channel.fill(fd_[d.from], granted);
      if (granted > r.bytes) {
        for (const auto& bucket : *d.chain) bucket->give_back(granted - r.bytes);
      }
      flow_->consume_volume(r.bytes);
      if (r.bytes > 0) {
        d.reads->fetch_add(1, std::memory_order_relaxed);
        progress = true;
      }
      if (r.eof) {
        d.eof = true;
        progress = true;
      }
      // With a pipe, EAGAIN can mean the pipe ran out of slots before bytes: wait
      // for a drain instead of for a readable socket that is already readable.
      if (r.again && d.channel.size() > 0) d.full = true;
      if (r.error) {
        reset_from(worker, d.from, r.error);
        return false;
      }
    }
  }
  if (d.channel.size() > 0) {
    const IoResult r = d.channel.drain(fd_[d.to]);
    if (r.bytes > 0) {
      d.bytes->fetch_add(r.bytes, std::memory_order_relaxed);
      d.full = false;
      progress = true;
    }
    d.blocked = r.again;
    if (r.error) {
      reset_from(worker, d.to, r.error);
      return false;
    }
  }
  if (d.eof && d.channel.size() == 0 && !d.shut) {
    // This direction is complete: from now on its sink closes in order, its last
    // bytes delivered, whatever becomes of us.
    net::posix::set_abortive_close(fd_[d.to], false);
    ::shutdown(fd_[d.to], SHUT_WR);
    d.shut = true;
    progress = true;
  }
  return true;
}

bool TcpRelay::pump(Worker& worker) {
  const auto now = Clock::now();
  // A few rounds let a drained channel be refilled at once; level-triggered epoll
  // brings us back for whatever is left.
  for (int round = 0; round < 4; ++round) {
    bool progress = false;
    if (!step(worker, up_, now, progress) || !step(worker, down_, now, progress)) return false;
    if (!progress) break;
    idle_.touch(now);
  }
  if (up_.shut && down_.shut) {
    close(worker, FlowState::closed, "");
    return false;
  }
  return true;
}

std::uint32_t TcpRelay::interest(Side side) const {
  const Direction& reading = side == app ? up_ : down_;
  const Direction& writing = side == app ? down_ : up_;
  std::uint32_t events = 0;
  const bool throttled = reading.throttled_until > Clock::now();
  if (!reading.eof && !reading.full && !throttled && reading.channel.space() > 0) events |= EPOLLIN;
  if (writing.channel.size() > 0 && writing.blocked) events |= EPOLLOUT;
  return events;
}

void TcpRelay::update_interest(Worker& worker) {
  for (Side side : {app, destination}) {
    const std::uint32_t wanted = interest(side);
    if (wanted != watched_[side]) {
      worker.rewatch(fd_[side], &handle_[side], wanted);
      watched_[side] = wanted;
    }
  }
}

void TcpRelay::reset_from(Worker& worker, Side side, int error) {
  const bool by_destination = side == destination;
  close(worker, by_destination && is_reset(error) ? FlowState::failed : FlowState::closed,
        std::string(by_destination ? "the destination" : "the application") + " reset the connection (" +
            std::strerror(error) + ")");
}

void TcpRelay::close(Worker& worker, FlowState state, const std::string& why) {
  if (finished_) return;
  finished_ = true;
  const bool clean = state == FlowState::closed && why.empty();
  for (int& fd : fd_) {
    worker.unwatch(fd);
    // Anything but a clean end is passed on as a reset, so neither program mistakes a
    // cut-off stream for a complete one.
    if (clean) {
      ::close(fd);
    } else {
      net::posix::close_with_reset(fd);
    }
    fd = -1;
  }
  if (!why.empty()) flow_->error = why;
  flow_->state = state;
}

}  // namespace sluice::relay::epoll
