// The Windows backend of the relay engine: one I/O completion port and a pool of
// workers (one per core by default) that take its packets; overlapped AcceptEx and
// ConnectEx set TCP relays up, overlapped WSARecv/WSARecvFrom bring data in and
// overlapped WSASendTo takes it out. Operations that succeed at once are finished
// inline where the socket allows it (FILE_SKIP_COMPLETION_PORT_ON_SUCCESS).

#include <spdlog/spdlog.h>

#include <algorithm>
#include <system_error>
#include <thread>

#include "net/ip_address.h"
#include "service/relay/expected_connections.h"
#include "service/relay/iocp_listener.h"
#include "service/relay/iocp_relay.h"
#include "service/relay/iocp_tcp_relay.h"
#include "service/relay/iocp_udp_association.h"
#include "service/relay/relay_engine.h"
#include "service/relay/socket_owner.h"

namespace sluice::relay {

using iocp::Clock;

namespace {

// How long stop() waits for the kernel to give back the operations it cancelled.
// Past it the relays left are leaked, not freed: memory the kernel may still write
// to must not be reused.
constexpr auto kDrainBound = std::chrono::seconds(10);

}  // namespace

struct RelayEngine::Impl {
  explicit Impl(EngineConfig config) : context(std::move(config)) { expected.use_tables(context.config.socket_tables); }

  net::win::WinsockSession winsock;
  iocp::Context context;
  std::unique_ptr<iocp::Listener> listener[2];  // IPv4, IPv6
  net::Endpoint listener_address[2];
  bool started = false;
  bool stopped = false;

  ExpectedConnections expected;  // registered TCP flows not yet connected

  void listen_on(int index, const std::string& text) {
    auto ip = net::parse_ip(text);
    if (!ip) throw std::system_error(std::make_error_code(std::errc::invalid_argument), "relay listener address '" + text + "'");
    listener[index] = iocp::Listener::open(context.port, net::Endpoint{*ip, 0}, context.config.inline_completions,
                                           [this](net::win::Socket s) { accepted(s); });
    if (listener[index]) listener_address[index] = listener[index]->address();
  }

  // A listener took a connection (on a worker).
  void accepted(net::win::Socket socket) {
    context.counters.tcp_accepted++;
    net::Endpoint from;
    try {
      from = net::win::peer_address(socket);
    } catch (const std::exception& e) {
      SPDLOG_DEBUG("relay: accepted connection: {}", e.what());
    }
    auto accepted = expected.accept(from, net::win::local_address(socket));
    if (accepted.kind != ExpectedConnections::Accepted::claimed) {
      // Nobody's, or not from the socket its registration proved: not ours to carry.
      (accepted.kind == ExpectedConnections::Accepted::unexpected ? context.counters.tcp_unexpected : context.counters.tcp_wrong_owner)++;
      SPDLOG_DEBUG("relay: connection from {} refused: {}", net::format_endpoint(from),
                   accepted.kind == ExpectedConnections::Accepted::unexpected ? "unexpected" : "not the registered socket");
      net::win::close_with_reset(socket);
      return;
    }
    net::win::set_no_delay(socket);
    context.adopt(std::make_shared<iocp::TcpRelay>(context, std::move(accepted.flow), socket));
  }

  // Fails expectations whose deadline passed; runs every second while started.
  void sweep() {
    const auto now = Clock::now();
    expected.expire(now);
    context.port.schedule(now + std::chrono::seconds(1), [this] { sweep(); });
  }
};

RelayEngine::RelayEngine(EngineConfig config) : impl_(std::make_unique<Impl>(std::move(config))) {}

RelayEngine::~RelayEngine() { stop(); }

void RelayEngine::start() {
  Impl& m = *impl_;
  if (m.started) return;
  if (m.stopped) {
    throw std::system_error(std::make_error_code(std::errc::operation_not_permitted), "a stopped relay engine cannot start again");
  }
  if (!m.context.config.socket_tables.reports_owners()) {
    SPDLOG_WARN("relay: this system's TCP and UDP tables name no socket owners (owning pid 0, as under Wine): "
                "flow ownership is not checked; connections are matched by address alone");
  }
  try {
    m.listen_on(0, m.context.config.ipv4_loopback);
    m.listen_on(1, m.context.config.ipv6_loopback);
    unsigned count = m.context.config.workers;
    if (count == 0) count = std::max(1u, std::thread::hardware_concurrency());
    m.context.port.start(count);
  } catch (...) {
    // No accept was posted yet, so the listeners can go at once. The port's threads
    // that did start are joined; a port cannot start twice, so neither can the engine.
    m.context.port.stop();
    for (auto& listener : m.listener) listener.reset();
    m.stopped = true;
    throw;
  }
  for (auto& listener : m.listener) {
    if (listener) listener->start();
  }
  m.context.port.schedule(Clock::now() + std::chrono::seconds(1), [&m] { m.sweep(); });
  m.started = true;
}

void RelayEngine::stop() {
  Impl& m = *impl_;
  if (!m.started) return;
  m.started = false;
  m.stopped = true;
  // No new connections, then every flow cut: its programs see an error now rather
  // than a connection that silently stops moving. The workers keep running until
  // the kernel has given back every cancelled operation.
  for (auto& listener : m.listener) {
    if (listener) listener->close();
  }
  bool drained = m.context.close_all_and_wait("the relay service stopped", kDrainBound);
  for (auto& listener : m.listener) {
    if (listener && !listener->wait_drained(kDrainBound)) {
      drained = false;
      (void)listener.release();  // leaked on purpose: the kernel still owns its accepts
    }
  }
  if (!drained) SPDLOG_ERROR("relay: operations still outstanding after {} s; their memory is left to the kernel", kDrainBound.count());
  m.context.port.stop();
  for (auto& listener : m.listener) listener.reset();
  if (drained && m.context.buffers.in_use() != 0) {
    SPDLOG_ERROR("relay: {} buffers still out after every relay ended", m.context.buffers.in_use());
  }
  m.expected.close_all("the relay service stopped");
}

net::Endpoint RelayEngine::tcp_listener(bool ipv6) const { return impl_->listener_address[ipv6 ? 1 : 0]; }

void RelayEngine::expect_tcp(std::shared_ptr<Flow> flow) {
  Impl& m = *impl_;
  if (!m.started) throw std::system_error(std::make_error_code(std::errc::operation_not_permitted), "the relay engine is stopped");
  m.expected.add(std::move(flow), Clock::now() + m.context.config.tcp_expect_timeout);
}

net::Endpoint RelayEngine::open_udp(std::shared_ptr<Flow> flow) {
  Impl& m = *impl_;
  if (!m.started) throw std::system_error(std::make_error_code(std::errc::operation_not_permitted), "the relay engine is stopped");
  auto association = std::make_shared<iocp::UdpAssociation>(m.context, std::move(flow));
  const net::Endpoint address = association->address();
  m.context.counters.udp_associations++;
  m.context.adopt(std::move(association));
  return address;
}

void RelayEngine::close_flow(std::uint64_t id) {
  Impl& m = *impl_;
  if (m.expected.close(id)) return;
  if (auto relay = m.context.find(id)) relay->close(FlowState::closed, "");
}

EngineCounters RelayEngine::counters() const {
  const auto& c = impl_->context.counters;
  return EngineCounters{c.tcp_accepted.load(), c.tcp_unexpected.load(), c.tcp_connect_failures.load(), c.tcp_wrong_owner.load(),
                        c.tcp_idle_closed.load(),
                        c.udp_associations.load(), c.udp_dropped.load(), c.flows_active.load(),
                        c.volume_closed.load(), impl_->context.buffers.in_use()};
}

}  // namespace sluice::relay
