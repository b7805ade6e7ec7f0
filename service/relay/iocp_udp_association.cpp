#include "service/relay/iocp_udp_association.h"

#include <cstring>

namespace sluice::relay::iocp {

namespace {

// An error a receive reports about an earlier datagram (an ICMP answer to one we
// sent), not about the socket: the association goes on.
bool about_a_datagram(int error) {
  switch (error) {
    case WSAECONNRESET:
    case WSAENETRESET:
    case WSAECONNREFUSED:
    case WSAEHOSTUNREACH:
    case WSAENETUNREACH:
    case ERROR_PORT_UNREACHABLE:
    case ERROR_HOST_UNREACHABLE:
    case ERROR_NETWORK_UNREACHABLE:
    case ERROR_CONNECTION_REFUSED: return true;
    default: return false;
  }
}

}  // namespace

UdpAssociation::UdpAssociation(Context& context, std::shared_ptr<Flow> flow)
    : Relay(context, std::move(flow)),
      up_{app, destination, &flow_->limits.up, &flow_->counters.bytes_up, &flow_->counters.packets_up},
      down_{destination, app, &flow_->limits.down, &flow_->counters.bytes_down, &flow_->counters.packets_down},
      last_activity_(Clock::now()) {
  for (Direction* d : {&up_, &down_}) {
    d->receive.target = d->send.target = this;
    d->queue.limit(QueueBounds{context_.config.udp_queue_datagrams, context_.config.udp_queue_bytes}, flow_->user_queue);
  }
  const bool ipv4_app = net::is_ipv4(flow_->app_local.ip);
  const net::Endpoint loopback{net::loopback(ipv4_app), 0};
  try {
    socket_[app] = net::win::open_socket(ipv4_app ? AF_INET : AF_INET6, SOCK_DGRAM, "UDP association socket");
    net::win::bind(socket_[app], loopback, "bind " + net::format_endpoint(loopback));
    // The application's socket is usually bound to the wildcard address; what we see
    // of it is then the loopback address it sends from.
    net::Endpoint peer = flow_->app_local;
    if (net::is_unspecified(peer.ip)) peer.ip = loopback.ip;
    const net::SocketAddress app_peer = net::to_sockaddr(peer);
    if (::connect(socket_[app].handle, app_peer.get(), app_peer.length) != 0) {
      net::win::throw_last_error("connect to " + net::format_endpoint(peer));
    }
    address_ = net::win::local_address(socket_[app]);

    const bool ipv4_destination = net::is_ipv4(flow_->destination.ip);
    socket_[destination] = net::win::open_socket(ipv4_destination ? AF_INET : AF_INET6, SOCK_DGRAM, "UDP upstream socket");
    const net::SocketAddress destination_peer = net::to_sockaddr(flow_->destination);
    if (::connect(socket_[destination].handle, destination_peer.get(), destination_peer.length) != 0) {
      net::win::throw_last_error("connect to " + net::format_endpoint(flow_->destination));
    }
    for (const net::win::Socket& socket : socket_) net::win::ignore_udp_resets(socket);
  } catch (...) {
    for (net::win::Socket& socket : socket_) net::win::close(socket);
    throw;
  }
}

UdpAssociation::~UdpAssociation() {
  for (net::win::Socket& socket : socket_) net::win::close(socket);
}

void UdpAssociation::start_locked() {
  for (net::win::Socket& socket : socket_) context_.attach(socket);
  flow_->state = FlowState::open;
  idle_check_at_ = last_activity_ + context_.config.udp_idle_timeout;
  wake_at(idle_check_at_);
  drive();
}

void UdpAssociation::completed_locked(Operation& operation, DWORD bytes, bool succeeded) {
  for (Direction* d : {&up_, &down_}) {
    if (&operation == &d->receive) {
      d->receiving_now = false;
      const int error = succeeded ? 0 : net::win::completion_error(socket_[d->from], &operation.overlapped);
      if (error != 0) {
        if (!receive_failed(*d, error)) return;
      } else {
        bool progress = false;
        received(*d, bytes, Clock::now(), progress);
        if (finished_) return;
      }
    } else if (&operation == &d->send) {
      d->sending_now = false;
      const int error = succeeded ? 0 : net::win::completion_error(socket_[d->to], &operation.overlapped);
      if (error != 0) {
        // This datagram could not be sent (too large for the path, the destination
        // unreachable): it is dropped and counted, and the rest go on.
        flow_->counters.dropped.fetch_add(1, std::memory_order_relaxed);
        d->sending.release();
      } else {
        sent(*d, bytes);
      }
    }
  }
  drive();
}

void UdpAssociation::timer_locked(Clock::time_point now) {
  if (now >= idle_check_at_) {
    const auto idle_until = last_activity_ + context_.config.udp_idle_timeout;
    if (now >= idle_until) {
      end_locked(FlowState::closed, "");
      return;
    }
    idle_check_at_ = idle_until;
    wake_at(idle_check_at_);
  }
  drive();
}

void UdpAssociation::drive() {
  const auto now = Clock::now();
  for (int round = 0; round < kInlineBudget; ++round) {
    bool progress = false;
    if (!step(up_, now, progress) || !step(down_, now, progress)) return;
    if (!progress) return;
  }
  yield();  // datagrams keep coming: other relays get the worker meanwhile
}

bool UdpAssociation::step(Direction& d, Clock::time_point now, bool& progress) {
  if (!d.receiving_now && !start_receive(d, now, progress)) return false;
  if (!d.sending_now && !d.queue.empty() && now >= d.throttled_until) flush(d, now, progress);
  return !finished_;
}

bool UdpAssociation::start_receive(Direction& d, Clock::time_point now, bool& progress) {
  if (!d.receiving) d.receiving = context_.buffers.take();
  d.receive.prepare();
  const net::win::Started started = track(net::win::start_recv_from(socket_[d.from], d.receiving.data(), d.receiving.size(), &d.sender,
                                                          &d.sender_length, &d.receive.flags, &d.receive.overlapped));
  switch (started.kind) {
    case net::win::Started::pending: d.receiving_now = true; return true;
    case net::win::Started::done: received(d, started.bytes, now, progress); progress = true; return !finished_;
    case net::win::Started::failed: progress = true; return receive_failed(d, started.error);
  }
  return true;
}

void UdpAssociation::received(Direction& d, std::size_t size, Clock::time_point now, bool& progress) {
  last_activity_ = now;
  // A datagram passes while the program's volume cap is not reached; at the cap the
  // association ends.
  if (flow_->volume_stops()) {
    context_.counters.volume_closed++;
    end_locked(FlowState::closed, kVolumeCapReached);
    return;
  }
  // Once one datagram waits, every later one waits behind it so order is kept.
  const bool waiting = !d.queue.empty() || d.sending_now;
  if (!waiting && (d.chain->empty() || take_packet_from_all(*d.chain, size, now))) {
    flow_->consume_volume(size);
    d.sending = std::move(d.receiving);  // sent from where it arrived; the next receive takes another buffer
    start_send(d, size, progress);
  } else {
    enqueue(d, d.receiving.data(), size);
  }
}

bool UdpAssociation::receive_failed(Direction& d, int error) {
  if (error == WSAEMSGSIZE) {  // larger than any datagram we take: cut short, so dropped
    flow_->counters.dropped.fetch_add(1, std::memory_order_relaxed);
    return true;
  }
  if (about_a_datagram(error)) return true;
  end_locked(FlowState::failed, std::string("receiving from the ") + (d.from == app ? "application" : "destination") +
                                    ": " + net::win::error_text(error));
  return false;
}

void UdpAssociation::enqueue(Direction& d, const char* data, std::size_t size) {
  if (!d.queue.push_back(data, size, false)) {
    flow_->counters.dropped.fetch_add(1, std::memory_order_relaxed);
    context_.counters.udp_dropped++;
  }
}

void UdpAssociation::flush(Direction& d, Clock::time_point now, bool& progress) {
  DatagramQueue::Pending& next = d.queue.front();
  if (!next.paid) {
    if (flow_->volume_stops()) {
      context_.counters.volume_closed++;
      end_locked(FlowState::closed, kVolumeCapReached);
      return;
    }
    if (!d.chain->empty() && !take_packet_from_all(*d.chain, next.payload.size(), now)) {
      d.throttled_until = throttle_deadline(now, time_until_all(*d.chain, next.payload.size(), now));
      wake_at(d.throttled_until);
      return;
    }
    flow_->consume_volume(next.payload.size());
    next.paid = true;
  }
  d.sending = context_.buffers.take();
  const std::size_t size = next.payload.size();
  std::memcpy(d.sending.data(), next.payload.data(), size);
  d.queue.pop_front();
  start_send(d, size, progress);
}

void UdpAssociation::start_send(Direction& d, std::size_t size, bool& progress) {
  // Both sockets are connected: WSASend, no address. An address given with
  // WSASendTo on a connected datagram socket "overrides the destination address for
  // that particular datagram only": the connected peer is the one to send to.
  d.send.prepare();
  const net::win::Started started =
      track(net::win::start_send(socket_[d.to], d.sending.data(), size, &d.send.overlapped));
  switch (started.kind) {
    case net::win::Started::pending: d.sending_now = true; return;
    case net::win::Started::done: sent(d, started.bytes); break;
    case net::win::Started::failed:
      flow_->counters.dropped.fetch_add(1, std::memory_order_relaxed);
      d.sending.release();
      break;
  }
  progress = true;
}

void UdpAssociation::sent(Direction& d, std::size_t bytes) {
  d.bytes->fetch_add(bytes, std::memory_order_relaxed);
  d.packets->fetch_add(1, std::memory_order_relaxed);
  d.sending.release();
}

void UdpAssociation::close_sockets_locked(bool) {
  for (net::win::Socket& socket : socket_) net::win::close(socket);
}

}  // namespace sluice::relay::iocp
