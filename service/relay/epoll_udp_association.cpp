#include "service/relay/epoll_udp_association.h"

#include <unistd.h>

#include <algorithm>
#include <cerrno>

#include "net/ip_address.h"
#include "net/posix_socket.h"

namespace sluice::relay::epoll {

namespace {

// Batches read per readiness event before other sockets get their turn.
constexpr int kBatchesPerEvent = 8;

bool transient(int error) { return error == EAGAIN || error == EWOULDBLOCK || error == EINTR || error == ENOBUFS; }

}  // namespace

UdpAssociation::UdpAssociation(std::shared_ptr<Flow> flow)
    : Relay(std::move(flow)),
      handle_{{this, app}, {this, destination}},
      up_{app, destination, &flow_->limits.up, &flow_->counters.bytes_up, &flow_->counters.packets_up},
      down_{destination, app, &flow_->limits.down, &flow_->counters.bytes_down, &flow_->counters.packets_down},
      last_activity_(Clock::now()) {
  const bool ipv4_app = net::is_ipv4(flow_->app_local.ip);
  const net::Endpoint loopback{net::loopback(ipv4_app), 0};
  try {
    fd_[app] = net::posix::open_socket(ipv4_app ? AF_INET : AF_INET6, SOCK_DGRAM, "UDP association socket");
    const auto bind_to = net::to_sockaddr(loopback);
    if (::bind(fd_[app], bind_to.get(), bind_to.length) != 0) net::posix::throw_errno("bind " + net::format_endpoint(loopback));
    // The application's socket is usually bound to the wildcard address; what we see
    // of it is then the loopback address it sends from.
    net::Endpoint peer = flow_->app_local;
    if (net::is_unspecified(peer.ip)) peer.ip = loopback.ip;
    const auto app_address = net::to_sockaddr(peer);
    if (::connect(fd_[app], app_address.get(), app_address.length) != 0) net::posix::throw_errno("connect to " + net::format_endpoint(peer));
    address_ = net::posix::local_address(fd_[app]);

    const bool ipv4_destination = net::is_ipv4(flow_->destination.ip);
    fd_[destination] = net::posix::open_socket(ipv4_destination ? AF_INET : AF_INET6, SOCK_DGRAM, "UDP upstream socket");
    const auto to = net::to_sockaddr(flow_->destination);
    if (::connect(fd_[destination], to.get(), to.length) != 0) {
      net::posix::throw_errno("connect to " + net::format_endpoint(flow_->destination));
    }
  } catch (...) {
    for (int fd : fd_) {
      if (fd >= 0) ::close(fd);
    }
    throw;
  }
}

UdpAssociation::~UdpAssociation() {
  for (int fd : fd_) {
    if (fd >= 0) ::close(fd);
  }
}

void UdpAssociation::start(Worker& worker) {
  flow_->state = FlowState::open;
  const auto& config = worker.shared().config;
  for (Direction* d : {&up_, &down_}) d->queue.limit(QueueBounds{config.udp_queue_datagrams, config.udp_queue_bytes}, flow_->user_queue);
  for (Side side : {app, destination}) {
    watched_[side] = EPOLLIN;
    worker.watch(fd_[side], &handle_[side], EPOLLIN);
  }
  idle_check_at_ = last_activity_ + worker.shared().config.udp_idle_timeout;
  worker.wake_at(idle_check_at_, flow_->id);
}

void UdpAssociation::enqueue(Worker& worker, Direction& d, const char* data, std::size_t size, bool paid) {
  if (!d.queue.push_back(data, size, paid)) {
    flow_->counters.dropped.fetch_add(1, std::memory_order_relaxed);
    worker.shared().counters.udp_dropped++;
  }
}

void UdpAssociation::forward(Worker& worker, Direction& d, Clock::time_point now) {
  Worker::Scratch& s = worker.scratch();
  for (int batch = 0; batch < kBatchesPerEvent; ++batch) {
    for (unsigned i = 0; i < Worker::Scratch::kBatch; ++i) {
      s.vectors[i] = iovec{s.data.data() + i * Worker::Scratch::kDatagram, Worker::Scratch::kDatagram};
      s.messages[i].msg_hdr = msghdr{};
      s.messages[i].msg_hdr.msg_iov = &s.vectors[i];
      s.messages[i].msg_hdr.msg_iovlen = 1;
    }
    const int received = ::recvmmsg(fd_[d.from], s.messages, Worker::Scratch::kBatch, MSG_DONTWAIT, nullptr);
    if (received <= 0) return;  // EAGAIN, or an ICMP error reported on a connected socket: nothing to read
    last_activity_ = now;

    // Datagrams that may go now are compacted to the front of the batch; once one
    // has to wait, every later one waits behind it so order is kept.
    unsigned sendable = 0;
    bool capped = false;
    for (int i = 0; i < received; ++i) {
      const char* data = static_cast<const char*>(s.vectors[i].iov_base);
      const std::size_t size = s.messages[i].msg_len;
      // A datagram passes while the program's volume cap is not reached; at the cap
      // the association ends (after what already passed is sent).
      if (flow_->volume_stops()) {
        capped = true;
        break;
      }
      const bool waiting = !d.queue.empty() || d.blocked;
      if (!waiting && (d.chain->empty() || take_packet_from_all(*d.chain, size, now))) {
        flow_->consume_volume(size);
        s.messages[sendable].msg_hdr.msg_iov = &s.vectors[i];
        s.vectors[i].iov_len = size;
        ++sendable;
      } else {
        enqueue(worker, d, data, size, false);
      }
    }
    unsigned sent = 0;
    while (sent < sendable) {
      const int n = ::sendmmsg(fd_[d.to], s.messages + sent, sendable - sent, MSG_DONTWAIT);
      if (n > 0) {
        for (unsigned i = sent; i < sent + static_cast<unsigned>(n); ++i) {
          d.bytes->fetch_add(s.messages[i].msg_len, std::memory_order_relaxed);
        }
        d.packets->fetch_add(static_cast<std::uint64_t>(n), std::memory_order_relaxed);
        sent += static_cast<unsigned>(n);
      } else if (n < 0 && transient(errno)) {
        d.blocked = true;
        break;
      } else {
        // This datagram cannot be sent (too large for the path, the destination
        // unreachable): it is dropped and counted, and the rest go on.
        flow_->counters.dropped.fetch_add(1, std::memory_order_relaxed);
        ++sent;
      }
    }
    // What the socket would not take goes to the front of the queue, in order.
    for (unsigned i = sendable; i-- > sent;) {
      const iovec* v = s.messages[i].msg_hdr.msg_iov;
      d.queue.push_front(static_cast<const char*>(v->iov_base), v->iov_len, true);
    }
    if (capped) {
      worker.shared().counters.volume_closed++;
      close(worker, FlowState::closed, kVolumeCapReached);
      return;
    }
    if (!d.queue.empty() && !d.blocked && d.throttled_until <= now) {
      d.throttled_until = throttle_deadline(now, time_until_all(*d.chain, d.queue.front().payload.size(), now));
      worker.wake_at(d.throttled_until, flow_->id);
    }
    if (received < static_cast<int>(Worker::Scratch::kBatch)) return;
  }
}

void UdpAssociation::flush(Worker& worker, Direction& d, Clock::time_point now) {
  while (!d.queue.empty()) {
    DatagramQueue::Pending& next = d.queue.front();
    if (!next.paid) {
      if (flow_->volume_stops()) {
        worker.shared().counters.volume_closed++;
        close(worker, FlowState::closed, kVolumeCapReached);
        return;
      }
      if (!d.chain->empty() && !take_packet_from_all(*d.chain, next.payload.size(), now)) {
        d.throttled_until = throttle_deadline(now, time_until_all(*d.chain, next.payload.size(), now));
        worker.wake_at(d.throttled_until, flow_->id);
        return;
      }
      flow_->consume_volume(next.payload.size());
      next.paid = true;
    }
    const ssize_t n = ::send(fd_[d.to], next.payload.data(), next.payload.size(), MSG_DONTWAIT);
    if (n < 0 && transient(errno)) {
      d.blocked = true;
      return;
    }
    if (n >= 0) {
      d.bytes->fetch_add(static_cast<std::uint64_t>(n), std::memory_order_relaxed);
      d.packets->fetch_add(1, std::memory_order_relaxed);
    } else {
      flow_->counters.dropped.fetch_add(1, std::memory_order_relaxed);
    }
    d.queue.pop_front();
  }
  d.blocked = false;
}

void UdpAssociation::on_event(Worker& worker, int side, std::uint32_t events) {
  if (finished_) return;
  const auto now = Clock::now();
  Direction& reading = side == app ? up_ : down_;
  Direction& writing = side == app ? down_ : up_;
  if (events & EPOLLOUT) {
    writing.blocked = false;
    flush(worker, writing, now);
  }
  if (!finished_ && (events & (EPOLLIN | EPOLLERR))) {
    if (!reading.queue.empty() && now >= reading.throttled_until) flush(worker, reading, now);
    if (!finished_) forward(worker, reading, now);
  }
  if (!finished_) update_interest(worker);
}

void UdpAssociation::on_timer(Worker& worker, Clock::time_point now) {
  if (finished_) return;
  if (now >= idle_check_at_) {
    const auto idle_until = last_activity_ + worker.shared().config.udp_idle_timeout;
    if (now >= idle_until) {
      close(worker, FlowState::closed, "");
      return;
    }
    idle_check_at_ = idle_until;
    worker.wake_at(idle_check_at_, flow_->id);
  }
  for (Direction* d : {&up_, &down_}) {
    if (!finished_ && !d->queue.empty() && !d->blocked && now >= d->throttled_until) flush(worker, *d, now);
  }
  if (!finished_) update_interest(worker);
}

void UdpAssociation::update_interest(Worker& worker) {
  for (Side side : {app, destination}) {
    // Always read (what is over the bound must be seen to be dropped); write
    // readiness only while something waits for the socket.
    const Direction& writing = side == app ? down_ : up_;
    const std::uint32_t wanted = EPOLLIN | (writing.blocked ? EPOLLOUT : 0u);
    if (wanted != watched_[side]) {
      worker.rewatch(fd_[side], &handle_[side], wanted);
      watched_[side] = wanted;
    }
  }
}

void UdpAssociation::close(Worker& worker, FlowState state, const std::string& why) {
  if (finished_) return;
  finished_ = true;
  for (int& fd : fd_) {
    worker.unwatch(fd);
    ::close(fd);
    fd = -1;
  }
  if (!why.empty()) flow_->error = why;
  flow_->state = state;
}

}  // namespace sluice::relay::epoll
