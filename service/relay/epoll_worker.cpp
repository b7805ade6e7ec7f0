#include "service/relay/epoll_worker.h"

#include <spdlog/spdlog.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

#include "net/posix_socket.h"
#include "service/relay/epoll_tcp_relay.h"
#include "service/relay/epoll_udp_association.h"

namespace sluice::relay::epoll {

Worker::Worker(Shared& shared, unsigned index, const std::vector<int>& listeners)
    : shared_(shared), index_(index), scratch_(std::make_unique<Scratch>()), next_sweep_(Clock::now()) {
  epoll_fd_ = ::epoll_create1(EPOLL_CLOEXEC);
  if (epoll_fd_ < 0) net::posix::throw_errno("epoll_create1");
  wake_fd_ = ::eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
  if (wake_fd_ < 0) net::posix::throw_errno("eventfd");
  wake_handle_ = Handle{nullptr, wake_fd_};
  watch(wake_fd_, &wake_handle_, EPOLLIN);
  listener_handles_.reserve(listeners.size());
  for (int listener : listeners) {
    listener_handles_.push_back(Handle{nullptr, listener});
    // Every worker waits on every listener; EPOLLEXCLUSIVE wakes one of them per
    // connection instead of all.
    watch(listener, &listener_handles_.back(), EPOLLIN | EPOLLEXCLUSIVE);
  }
}

Worker::~Worker() {
  request_stop();
  join();
  if (wake_fd_ >= 0) ::close(wake_fd_);
  if (epoll_fd_ >= 0) ::close(epoll_fd_);
}

void Worker::start() { thread_ = std::thread([this] { run(); }); }

void Worker::request_stop() {
  stopping_ = true;
  const std::uint64_t one = 1;
  if (wake_fd_ >= 0) [[maybe_unused]] auto n = ::write(wake_fd_, &one, sizeof one);
}

void Worker::join() {
  if (thread_.joinable()) thread_.join();
}

void Worker::post(std::function<void(Worker&)> command) {
  {
    std::lock_guard lock(commands_mutex_);
    commands_.push_back(std::move(command));
  }
  const std::uint64_t one = 1;
  [[maybe_unused]] auto n = ::write(wake_fd_, &one, sizeof one);
}

void Worker::watch(int fd, Handle* handle, std::uint32_t events) {
  epoll_event event{events, {.ptr = handle}};
  if (::epoll_ctl(epoll_fd_, EPOLL_CTL_ADD, fd, &event) != 0) net::posix::throw_errno("epoll_ctl add");
}

void Worker::rewatch(int fd, Handle* handle, std::uint32_t events) {
  epoll_event event{events, {.ptr = handle}};
  ::epoll_ctl(epoll_fd_, EPOLL_CTL_MOD, fd, &event);
}

void Worker::unwatch(int fd) {
  if (fd >= 0) ::epoll_ctl(epoll_fd_, EPOLL_CTL_DEL, fd, nullptr);
}

void Worker::wake_at(Clock::time_point when, std::uint64_t id) { timers_.emplace(when, id); }

void Worker::adopt(std::unique_ptr<Relay> relay) {
  Relay& r = *relay;
  const std::uint64_t id = r.flow()->id;
  relays_[id] = std::move(relay);
  shared_.counters.flows_active++;
  try {
    r.start(*this);
  } catch (const std::exception& e) {
    r.close(*this, FlowState::failed, e.what());
  }
  if (r.finished()) finish(r);
}

void Worker::finish(Relay& relay) {
  const std::uint64_t id = relay.flow()->id;
  auto it = relays_.find(id);
  if (it == relays_.end()) return;
  retired_.push_back(std::move(it->second));
  relays_.erase(it);
  shared_.counters.flows_active--;
  std::lock_guard lock(shared_.mutex);
  shared_.owner.erase(id);
}

void Worker::close_relay(std::uint64_t id, FlowState state, const std::string& why) {
  auto it = relays_.find(id);
  if (it == relays_.end()) return;
  it->second->close(*this, state, why);
  finish(*it->second);
}

void Worker::start_tcp_relay(int app_fd, std::shared_ptr<Flow> flow) {
  int destination_fd = -1;
  try {
    destination_fd = net::posix::open_socket(net::is_ipv4(flow->destination.ip) ? AF_INET : AF_INET6, SOCK_STREAM,
                                        "relay socket");
    const auto to = net::to_sockaddr(flow->destination);
    if (::connect(destination_fd, to.get(), to.length) != 0 && errno != EINPROGRESS) {
      // Refused at once (loopback) or no route: the next readiness event reports it.
      if (errno != ECONNREFUSED && errno != ENETUNREACH && errno != EHOSTUNREACH) {
        net::posix::throw_errno("connect to " + net::format_endpoint(flow->destination));
      }
    }
    {
      std::lock_guard lock(shared_.mutex);
      shared_.owner[flow->id] = index_;
    }
    adopt(std::make_unique<TcpRelay>(flow, app_fd, destination_fd, shared_.zero_copy, shared_.config.buffer_bytes));
  } catch (const std::exception& e) {
    if (destination_fd >= 0) ::close(destination_fd);
    net::posix::close_with_reset(app_fd);
    shared_.counters.tcp_connect_failures++;
    flow->error = e.what();
    flow->state = FlowState::failed;
  }
}

void Worker::accept_from(int listener) {
  for (int i = 0; i < 64; ++i) {
    net::SocketAddress peer;
    peer.length = sizeof(peer.storage);
    const int fd = ::accept4(listener, reinterpret_cast<sockaddr*>(&peer.storage), &peer.length, SOCK_NONBLOCK | SOCK_CLOEXEC);
    if (fd < 0) {
      if (errno != EAGAIN && errno != EWOULDBLOCK && errno != ECONNABORTED && errno != EINTR) {
        SPDLOG_WARN("relay: accept: {}", std::strerror(errno));
      }
      return;
    }
    shared_.counters.tcp_accepted++;
    const net::Endpoint from = net::from_sockaddr(peer.get(), peer.length).value_or(net::Endpoint{});
    auto accepted = shared_.expected.accept(from, net::posix::local_address(fd));
    if (accepted.kind != ExpectedConnections::Accepted::claimed) {
      // Nobody's, or not from the socket its registration proved: not ours to carry.
      (accepted.kind == ExpectedConnections::Accepted::unexpected ? shared_.counters.tcp_unexpected : shared_.counters.tcp_wrong_owner)++;
      SPDLOG_DEBUG("relay: connection from {} refused: {}", net::format_endpoint(from),
                   accepted.kind == ExpectedConnections::Accepted::unexpected ? "unexpected" : "not the registered socket");
      net::posix::close_with_reset(fd);
      continue;
    }
    net::posix::set_no_delay(fd);
    start_tcp_relay(fd, std::move(accepted.flow));
  }
}

void Worker::run_commands() {
  std::uint64_t drained;
  [[maybe_unused]] auto n = ::read(wake_fd_, &drained, sizeof drained);
  std::vector<std::function<void(Worker&)>> commands;
  {
    std::lock_guard lock(commands_mutex_);
    commands.swap(commands_);
  }
  for (auto& command : commands) command(*this);
}

void Worker::run_timers(Clock::time_point now) {
  while (!timers_.empty() && timers_.top().first <= now) {
    const std::uint64_t id = timers_.top().second;
    timers_.pop();
    auto it = relays_.find(id);
    if (it == relays_.end()) continue;
    Relay& relay = *it->second;
    relay.on_timer(*this, now);
    if (relay.finished()) finish(relay);
  }
}

int Worker::next_timeout(Clock::time_point now) const {
  auto until = next_sweep_;
  if (!timers_.empty()) until = std::min(until, timers_.top().first);
  if (until <= now) return 0;
  // Round up: waking a little late is harmless, waking early spins.
  return static_cast<int>(std::chrono::ceil<std::chrono::milliseconds>(until - now).count());
}

void Worker::run() {
  constexpr int kEvents = 256;
  epoll_event events[kEvents];
  while (!stopping_) {
    const int n = ::epoll_wait(epoll_fd_, events, kEvents, next_timeout(Clock::now()));
    if (n < 0 && errno != EINTR) {
      SPDLOG_ERROR("relay worker {}: epoll_wait: {}", index_, std::strerror(errno));
      break;
    }
    for (int i = 0; i < n; ++i) {
      auto* handle = static_cast<Handle*>(events[i].data.ptr);
      if (handle->relay == nullptr) {
        if (handle->side == wake_fd_) {
          run_commands();
        } else {
          accept_from(handle->side);
        }
        continue;
      }
      Relay& relay = *handle->relay;
      // A relay ended earlier in this batch stays allocated (retired_) until the
      // batch is done, so its handles are still safe to look at here.
      if (relay.finished()) continue;
      relay.on_event(*this, handle->side, events[i].events);
      if (relay.finished()) finish(relay);
    }
    const auto now = Clock::now();
    run_timers(now);
    if (now >= next_sweep_) {
      if (index_ == 0) shared_.expected.expire(now);
      next_sweep_ = now + std::chrono::seconds(1);
    }
    retired_.clear();
  }
  run_commands();  // adopts what was handed over meanwhile, so it is closed below
  // Stopping: every flow still relayed is cut, so its programs see an error now
  // rather than a connection that silently stops moving.
  for (auto& [id, relay] : relays_) relay->close(*this, FlowState::closed, "the relay service stopped");
  shared_.counters.flows_active -= relays_.size();
  relays_.clear();
  retired_.clear();
}

}  // namespace sluice::relay::epoll
