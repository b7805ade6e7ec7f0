#include "service/relay/iocp_tcp_relay.h"

#include <algorithm>

#include "net/ip_address.h"

namespace sluice::relay::iocp {

namespace {

bool is_reset(int error) {
  return error == WSAECONNRESET || error == WSAECONNABORTED || error == WSAETIMEDOUT || error == WSAEHOSTUNREACH ||
         error == WSAENETRESET || error == ERROR_NETNAME_DELETED;
}

}  // namespace

TcpRelay::TcpRelay(Context& context, std::shared_ptr<Flow> flow, net::win::Socket app_socket)
    : Relay(context, std::move(flow)),
      socket_{app_socket, net::win::Socket{}},
      capacity_(std::max<std::size_t>(context.config.buffer_bytes, 1)),
      up_{app, destination, &flow_->limits.up, &flow_->counters.bytes_up, &flow_->counters.packets_up},
      down_{destination, app, &flow_->limits.down, &flow_->counters.bytes_down, &flow_->counters.packets_down},
      idle_(context.config.tcp_idle_timeout) {
  connect_.target = this;
  for (Direction* d : {&up_, &down_}) d->read.target = d->send.target = this;
}

TcpRelay::~TcpRelay() {
  for (net::win::Socket& socket : socket_) net::win::close_with_reset(socket);
}

void TcpRelay::start_locked() {
  flow_->state = FlowState::connecting;
  // Until a direction's end of stream is passed on, closing its sink must reset it:
  // if this process dies (a crash, TerminateProcess) the system closes both sockets,
  // and an orderly FIN would make a stream cut short look complete to a program that
  // has no length of its own to check it against.
  net::win::set_abortive_close(socket_[app], true);
  context_.attach(socket_[app]);
  net::win::Started started;
  try {
    net::win::set_non_blocking(socket_[app]);  // for read_now()
  } catch (const std::exception& e) {
    end_locked(FlowState::failed, e.what());
    return;
  }
  connect_deadline_ = Clock::now() + context_.config.connect_timeout;
  try {
    const bool ipv4 = net::is_ipv4(flow_->destination.ip);
    socket_[destination] = net::win::open_socket(ipv4 ? AF_INET : AF_INET6, SOCK_STREAM, "relay socket");
    net::win::set_abortive_close(socket_[destination], true);
    net::win::set_non_blocking(socket_[destination]);
    // ConnectEx wants a bound socket; the system picks the address as connect() would.
    net::win::bind(socket_[destination], net::Endpoint{net::unspecified(ipv4), 0}, "bind relay socket");
    context_.attach(socket_[destination]);
    connect_.prepare();
    started = track(net::win::start_connect(socket_[destination], net::to_sockaddr(flow_->destination), &connect_.overlapped));
  } catch (const std::exception& e) {
    connect_failed(e.what());
    return;
  }
  if (started.kind == net::win::Started::failed) {
    connect_failed("connect to " + net::format_endpoint(flow_->destination) + ": " + net::win::error_text(started.error));
    return;
  }
  wake_at(connect_deadline_);
  if (started.kind == net::win::Started::done) connected();
  // The application may send before the destination answers: it is read (and held)
  // meanwhile, and an application that resets is noticed.
  drive();
}

void TcpRelay::connected() {
  connecting_ = false;
  net::win::finish_connect(socket_[destination]);
  net::win::set_no_delay(socket_[destination]);
  flow_->state = FlowState::open;
  if (const auto first_check = idle_.arm(Clock::now())) wake_at(*first_check);
}

void TcpRelay::connect_failed(const std::string& why) {
  context_.counters.tcp_connect_failures++;
  end_locked(FlowState::failed, why);
}

void TcpRelay::completed_locked(Operation& operation, DWORD bytes, bool succeeded) {
  if (&operation == &connect_) {
    const int error = succeeded ? 0 : net::win::completion_error(socket_[destination], &operation.overlapped);
    if (error != 0) {
      connect_failed("connect to " + net::format_endpoint(flow_->destination) + ": " + net::win::error_text(error));
      return;
    }
    connected();
  }
  for (Direction* d : {&up_, &down_}) {
    if (&operation == &d->read) {
      d->reading_now = false;
      const int error = succeeded ? 0 : net::win::completion_error(socket_[d->from], &operation.overlapped);
      if (error != 0) {
        reset_from(d->from, error);
        return;
      }
      d->readable = true;  // a zero-byte receive: what is there is read by step()
    } else if (&operation == &d->send) {
      d->sending_now = false;
      const int error = succeeded ? 0 : net::win::completion_error(socket_[d->to], &operation.overlapped);
      if (error != 0) {
        reset_from(d->to, error);
        return;
      }
      send_done(*d, bytes);
    }
  }
  if (!finished_) drive();
}

void TcpRelay::timer_locked(Clock::time_point now) {
  if (connecting_ && now >= connect_deadline_) {
    connect_failed("connect to " + net::format_endpoint(flow_->destination) + ": timed out");
    return;
  }
  const IdleDeadline::Verdict idle = idle_.check(now);
  if (idle.idle) {
    context_.counters.tcp_idle_closed++;
    end_locked(FlowState::closed, idle_reason(idle_));
    return;
  }
  if (idle.recheck) wake_at(*idle.recheck);
  drive();
}

void TcpRelay::drive() {
  const auto now = Clock::now();
  for (int round = 0; round < kInlineBudget; ++round) {
    // Stamped with this clock reading, taken once per drive and not per completion.
    if (moved_) {
      idle_.touch(now);
      moved_ = false;
    }
    bool progress = false;
    if (!step(up_, now, progress) || !step(down_, now, progress)) return;
    if (progress) idle_.touch(now);
    if (up_.shut && down_.shut) {
      end_locked(FlowState::closed, "");
      return;
    }
    if (!progress) return;
  }
  // Still moving after a budget of inline completions: other relays get the worker,
  // this one goes on from the port.
  yield();
}

bool TcpRelay::step(Direction& d, Clock::time_point now, bool& progress) {
  if (!d.eof && !d.reading_now && d.held < capacity_ && now >= d.throttled_until && ready(d.from)) {
    if (!start_read(d, now, progress)) return false;
  }
  if (!d.sending_now && !d.chunks.empty() && ready(d.to)) {
    if (!start_send(d, progress)) return false;
  }
  if (d.eof && d.chunks.empty() && !d.shut && ready(d.to)) {
    // This direction is complete: from now on its sink closes in order, its last
    // bytes delivered, whatever becomes of us.
    net::win::set_abortive_close(socket_[d.to], false);
    net::win::shutdown_send(socket_[d.to]);
    d.shut = true;
    progress = true;
  }
  return true;
}

bool TcpRelay::start_read(Direction& d, Clock::time_point now, bool& progress) {
  // The program's volume cap is reached: this direction reads no more, and once what
  // it holds is sent the connection is reset, so the program sees it cut short.
  const std::uint64_t room = flow_->volume_room(std::min(capacity_ - d.held, context_.buffers.buffer_bytes()));
  if (room == 0) {
    if (!d.chunks.empty() || d.sending_now) return true;
    context_.counters.volume_closed++;
    end_locked(FlowState::closed, kVolumeCapReached);
    return false;
  }
  if (!d.readable) return wait_readable(d, progress);
  const std::uint64_t granted = d.allowance.grant(*d.chain, room, now, d.throttled_until);
  if (granted == 0) {
    wake_at(d.throttled_until);
    return true;
  }
  // Something is there: only now is a buffer taken, and what is there is read at
  // once (the socket is non-blocking), as much as the tokens allow.
  d.reading = context_.buffers.take();
  d.granted = granted;
  const net::win::ReadNow got = net::win::read_now(socket_[d.from], d.reading.data(), granted);
  switch (got.kind) {
    case net::win::ReadNow::read: read_done(d, got.bytes); progress = true; return !finished_;
    case net::win::ReadNow::nothing:
      for (const auto& bucket : *d.chain) bucket->give_back(granted);
      d.granted = 0;
      d.reading.release();
      d.readable = false;
      return wait_readable(d, progress);
    case net::win::ReadNow::failed: reset_from(d.from, got.error); return false;
  }
  return true;
}

bool TcpRelay::wait_readable(Direction& d, bool& progress) {
  // A zero-byte receive waits for data with no buffer of ours pinned under it: an
  // idle flow holds no buffer at all (a 64 KiB one per direction otherwise, about
  // 400 MiB locked at 3 200 flows). It completes when data, the end of the stream or
  // a reset is there, and reports no bytes; the read itself follows (libuv reads a
  // stream the same way, src/win/tcp.c).
  d.read.prepare();
  const net::win::Started started = track(net::win::start_wait_readable(socket_[d.from], &d.read.flags, &d.read.overlapped));
  switch (started.kind) {
    case net::win::Started::pending: d.reading_now = true; return true;
    case net::win::Started::done: d.readable = true; progress = true; return true;
    case net::win::Started::failed: reset_from(d.from, started.error); return false;
  }
  return true;
}

void TcpRelay::read_done(Direction& d, std::size_t bytes) {
  if (d.granted > bytes) {
    for (const auto& bucket : *d.chain) bucket->give_back(d.granted - bytes);
  }
  d.granted = 0;
  if (bytes == 0) {
    d.reading.release();
    if (net::win::ended_by_reset(socket_[d.from])) {
      reset_from(d.from, WSAECONNRESET);
      return;
    }
    d.eof = true;
    return;
  }
  moved_ = true;
  flow_->consume_volume(bytes);
  d.reads->fetch_add(1, std::memory_order_relaxed);
  d.chunks.push_back(Chunk{std::move(d.reading), bytes});
  d.held += bytes;
}

bool TcpRelay::start_send(Direction& d, bool& progress) {
  const Chunk& front = d.chunks.front();
  d.send.prepare();
  const net::win::Started started = track(net::win::start_send(socket_[d.to], front.buffer.data() + d.front_sent,
                                                               front.size - d.front_sent, &d.send.overlapped));
  switch (started.kind) {
    case net::win::Started::pending: d.sending_now = true; return true;
    case net::win::Started::done: send_done(d, started.bytes); progress = true; return !finished_;
    case net::win::Started::failed: reset_from(d.to, started.error); return false;
  }
  return true;
}

void TcpRelay::send_done(Direction& d, std::size_t bytes) {
  if (bytes == 0) {
    // A stream send reports what it sent; nothing at all means the socket is gone.
    reset_from(d.to, WSAECONNABORTED);
    return;
  }
  moved_ = true;
  d.bytes->fetch_add(bytes, std::memory_order_relaxed);
  d.front_sent += bytes;
  if (d.front_sent >= d.chunks.front().size) {
    d.held -= d.chunks.front().size;
    d.chunks.pop_front();  // its buffer goes back to the pool
    d.front_sent = 0;
  }
}

void TcpRelay::reset_from(Side side, int error) {
  const bool by_destination = side == destination;
  end_locked(by_destination && is_reset(error) ? FlowState::failed : FlowState::closed,
             std::string(by_destination ? "the destination" : "the application") + " reset the connection (" +
                 net::win::error_text(error) + ")");
}

void TcpRelay::close_sockets_locked(bool clean) {
  for (net::win::Socket& socket : socket_) {
    if (clean) {
      net::win::close(socket);
    } else {
      net::win::close_with_reset(socket);
    }
  }
}

}  // namespace sluice::relay::iocp
