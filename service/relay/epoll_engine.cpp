// The Linux backend of the relay engine: a pool of workers, one epoll set and one
// thread each (one per core by default), sharing the loopback TCP listeners.

#include <fcntl.h>
#include <signal.h>
#include <unistd.h>

#include <algorithm>
#include <system_error>
#include <thread>

#include "net/ip_address.h"
#include "net/posix_socket.h"
#include "service/relay/epoll_udp_association.h"
#include "service/relay/epoll_worker.h"
#include "service/relay/relay_engine.h"

namespace sluice::relay {

using epoll::Clock;

struct RelayEngine::Impl {
  epoll::Shared shared;
  int listener[2] = {-1, -1};  // IPv4, IPv6
  net::Endpoint listener_address[2];
  std::vector<std::unique_ptr<epoll::Worker>> workers;
  std::atomic<unsigned> next_worker{0};
  bool started = false;
  bool stopped = false;  // for good: a stopped engine does not start again

  ~Impl() { close_listeners(); }

  // Only once no worker runs: a worker may be in accept() on one, and a descriptor
  // number closed under it could be reused by the next socket anyone opens.
  void close_listeners() {
    for (int& fd : listener) {
      if (fd >= 0) ::close(fd);
      fd = -1;
    }
  }

  // Undoes a start() that failed part way: the workers made so far, then the listeners.
  void abandon_start() {
    for (auto& worker : workers) worker->request_stop();
    workers.clear();  // joins those that run
    close_listeners();
  }

  // Binds a listener; false when the machine lacks the family (no ::1).
  bool listen_on(int index, const std::string& text) {
    auto ip = net::parse_ip(text);
    if (!ip) throw std::system_error(std::make_error_code(std::errc::invalid_argument), "relay listener address '" + text + "'");
    const net::Endpoint wanted{*ip, 0};
    const int family = index == 0 ? AF_INET : AF_INET6;
    const int fd = ::socket(family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0) {
      if (errno == EAFNOSUPPORT && index == 1) return false;
      net::posix::throw_errno("relay listener socket");
    }
    const int one = 1;
    if (index == 1) ::setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof one);
    const auto address = net::to_sockaddr(wanted);
    if (::bind(fd, address.get(), address.length) != 0) {
      const int error = errno;
      ::close(fd);
      if (index == 1 && (error == EADDRNOTAVAIL || error == EAFNOSUPPORT)) return false;
      errno = error;
      net::posix::throw_errno("bind relay listener " + text);
    }
    if (::listen(fd, SOMAXCONN) != 0) {
      ::close(fd);
      net::posix::throw_errno("listen on " + text);
    }
    listener[index] = fd;
    listener_address[index] = net::posix::local_address(fd);
    return true;
  }

  // Picks a worker for a flow that does not arrive on a listener.
  epoll::Worker& pick_worker() { return *workers[next_worker++ % workers.size()]; }
};

RelayEngine::RelayEngine(EngineConfig config) : impl_(std::make_unique<Impl>()) {
  impl_->shared.expected.use_tables(config.socket_tables);
  impl_->shared.config = std::move(config);
}

RelayEngine::~RelayEngine() { stop(); }

void RelayEngine::start() {
  Impl& m = *impl_;
  if (m.started) return;
  if (m.stopped) {
    throw std::system_error(std::make_error_code(std::errc::operation_not_permitted), "a stopped relay engine cannot start again");
  }
  // splice() into a socket the peer has closed raises SIGPIPE, which has no flag to
  // turn it off; the error it also returns is all the relay needs.
  ::signal(SIGPIPE, SIG_IGN);
  net::posix::raise_descriptor_limit();

  try {
    m.listen_on(0, m.shared.config.ipv4_loopback);
    m.listen_on(1, m.shared.config.ipv6_loopback);

    // Zero-copy needs pipes; probe once so a machine without them falls back to
    // copying through user space for every flow instead of failing them.
    int probe[2];
    m.shared.zero_copy = m.shared.config.zero_copy && ::pipe2(probe, O_CLOEXEC) == 0;
    if (m.shared.zero_copy) {
      ::close(probe[0]);
      ::close(probe[1]);
    }

    unsigned count = m.shared.config.workers;
    if (count == 0) count = std::max(1u, std::thread::hardware_concurrency());
    std::vector<int> listeners;
    for (int fd : m.listener) {
      if (fd >= 0) listeners.push_back(fd);
    }
    for (unsigned i = 0; i < count; ++i) m.workers.push_back(std::make_unique<epoll::Worker>(m.shared, i, listeners));
    for (auto& worker : m.workers) worker->start();
  } catch (...) {
    m.abandon_start();  // nothing half started is left listening
    m.stopped = true;   // as the IOCP backend, whose port cannot start twice
    throw;
  }
  m.started = true;
}

void RelayEngine::stop() {
  Impl& m = *impl_;
  if (!m.started) return;
  m.started = false;
  m.stopped = true;
  // Each worker closes its flows as it stops (relayed connections reset), then the
  // listeners go: connections to them are refused from here on.
  for (auto& worker : m.workers) worker->request_stop();
  for (auto& worker : m.workers) worker->join();
  m.workers.clear();
  m.close_listeners();
  m.shared.expected.close_all("the relay service stopped");
  std::lock_guard lock(m.shared.mutex);
  m.shared.owner.clear();
}

net::Endpoint RelayEngine::tcp_listener(bool ipv6) const { return impl_->listener_address[ipv6 ? 1 : 0]; }

void RelayEngine::expect_tcp(std::shared_ptr<Flow> flow) {
  Impl& m = *impl_;
  if (!m.started) throw std::system_error(std::make_error_code(std::errc::operation_not_permitted), "the relay engine is stopped");
  m.shared.expected.add(std::move(flow), Clock::now() + m.shared.config.tcp_expect_timeout);
}

net::Endpoint RelayEngine::open_udp(std::shared_ptr<Flow> flow) {
  Impl& m = *impl_;
  if (!m.started) throw std::system_error(std::make_error_code(std::errc::operation_not_permitted), "the relay engine is stopped");
  auto association = std::make_unique<epoll::UdpAssociation>(flow);
  const net::Endpoint address = association->address();
  epoll::Worker& worker = m.pick_worker();
  {
    std::lock_guard lock(m.shared.mutex);
    m.shared.owner[flow->id] = worker.index();
  }
  m.shared.counters.udp_associations++;
  // The worker owns it from here on; a worker runs every posted command, even
  // while stopping, so it is never lost.
  worker.post([relay = association.release()](epoll::Worker& w) { w.adopt(std::unique_ptr<epoll::Relay>(relay)); });
  return address;
}

void RelayEngine::close_flow(std::uint64_t id) {
  Impl& m = *impl_;
  if (m.shared.expected.close(id)) return;
  std::unique_lock lock(m.shared.mutex);
  auto owner = m.shared.owner.find(id);
  if (owner == m.shared.owner.end() || owner->second >= m.workers.size()) return;
  epoll::Worker& worker = *m.workers[owner->second];
  lock.unlock();
  worker.post([id](epoll::Worker& w) { w.close_relay(id, FlowState::closed, ""); });
}

EngineCounters RelayEngine::counters() const {
  const auto& c = impl_->shared.counters;
  return EngineCounters{c.tcp_accepted.load(), c.tcp_unexpected.load(), c.tcp_connect_failures.load(), c.tcp_wrong_owner.load(),
                        c.tcp_idle_closed.load(),
                        c.udp_associations.load(), c.udp_dropped.load(), c.flows_active.load(),
                        c.volume_closed.load()};
}

}  // namespace sluice::relay
