// The relay engine with real loopback sockets, over IPv4 and IPv6: TCP relayed both
// ways with half-close and resets, failures surfacing as resets, UDP associations,
// and token buckets holding traffic back. The same file runs against the epoll
// backend (Linux) and the IOCP one (Windows, under Wine), each on its fast path
// (splice / inline completions) and on its fallback (user-space copies / every
// completion through the port). Every wait is bounded.

#include "service/relay/relay_engine.h"

#include <gtest/gtest.h>

#include <chrono>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <tuple>
#include <vector>

#include "common/platform/platform.h"
#include "net/ip_address.h"
#include "service/relay/socket_owner.h"
#include "tests/support/socket_owner_skip.h"
#include "tests/support/test_socket.h"

namespace sluice::relay {
namespace {

using namespace std::chrono_literals;
using test::Endpoint;
using test::Socket;

constexpr int kWaitMs = 5000;

// How read_text() reports an error: the resets the tests expect by a name of their
// own (the C library's text for ECONNRESET differs between platforms), anything else
// in full.
std::string error_text(const std::error_code& error) {
  if (error == std::errc::connection_reset) return "ERR:connection reset";
  return "ERR:" + error.message() + " (" + error.category().name() + " " + std::to_string(error.value()) + ")";
}
const std::string kReset = "ERR:connection reset";

class RelayEngineTest : public ::testing::TestWithParam<std::tuple<bool, bool>> {
 protected:
  bool ipv6() const { return std::get<0>(GetParam()); }
  bool fast_path() const { return std::get<1>(GetParam()); }
  net::IpAddress loopback() const { return *net::parse_ip(ipv6() ? "::1" : "127.0.0.1"); }
  std::string loopback_text() const { return ipv6() ? "::1" : "127.0.0.1"; }
  std::string wildcard_text() const { return ipv6() ? "::" : "0.0.0.0"; }
  net::IpAddress wildcard() const { return *net::parse_ip(wildcard_text()); }

  void SetUp() override {
    test::start_sockets();
    // Both families are part of the contract: a machine without ::1 fails, not skips.
    if (ipv6()) {
      ASSERT_TRUE(test::ipv6_loopback_available()) << "cannot bind ::1: this test needs IPv4 and IPv6 loopback";
    }
    config_.workers = 2;
    config_.udp_queue_datagrams = 3;
    config_.zero_copy = fast_path();
    config_.inline_completions = fast_path();
    engine_ = std::make_unique<RelayEngine>(config_);
    engine_->start();
  }

  // Replaces the engine with one whose configuration `change` adjusted.
  template <class Change>
  void restart_with(Change change) {
    engine_.reset();
    change(config_);
    engine_ = std::make_unique<RelayEngine>(config_);
    engine_->start();
  }

  static Endpoint endpoint_of(const net::Endpoint& address) { return Endpoint{net::format_ip(address.ip), address.port}; }

  static std::uint16_t port_of(const Socket& socket) { return test::local_endpoint(socket).port; }

  // A socket bound to the loopback (destinations) or the wildcard (applications).
  Socket bound_socket(bool stream, bool on_loopback) const {
    Socket socket = stream ? test::tcp_socket(ipv6()) : test::udp_socket(ipv6());
    EXPECT_TRUE(socket.valid());
    const std::error_code error = test::bind(socket, Endpoint{on_loopback ? loopback_text() : wildcard_text(), 0});
    EXPECT_FALSE(error) << error.message();
    return socket;
  }

  Socket listening_destination() const {
    Socket socket = bound_socket(true, true);
    EXPECT_FALSE(test::listen(socket, 16));
    return socket;
  }

  std::shared_ptr<Flow> make_flow(policy::Protocol protocol, const Socket& app, std::uint16_t destination_port) {
    auto flow = std::make_shared<Flow>();
    flow->id = next_id_++;
    flow->protocol = protocol;
    flow->app_local = net::Endpoint{wildcard(), port_of(app)};
    flow->destination = net::Endpoint{loopback(), destination_port};
    // What flow.register proves and records: the socket is this process's.
    flow->app_socket = find_owned_bound_socket(protocol, flow->app_local, platform::current_pid());
    return flow;
  }

  // Registers then connects an application socket through the relay, as the provider does.
  Socket relayed_connection(std::uint16_t destination_port, std::shared_ptr<Flow>& flow,
                            std::shared_ptr<TokenBucket> up_limit = nullptr) {
    Socket app = bound_socket(true, false);
    flow = make_flow(policy::Protocol::tcp, app, destination_port);
    if (up_limit) flow->limits.up.push_back(up_limit);
    engine_->expect_tcp(flow);
    const std::error_code error = test::connect(app, endpoint_of(engine_->tcp_listener(ipv6())));
    EXPECT_FALSE(error) << error.message();
    return app;
  }

  static bool readable(const Socket& socket, int ms = kWaitMs) { return test::readable(socket, ms); }

  static Socket accept_one(const Socket& listener) {
    EXPECT_TRUE(readable(listener));
    return test::accept(listener);
  }

  // Reads until `want` bytes, the end of stream or an error; error_text() on error.
  static std::string read_text(const Socket& socket, std::size_t want = SIZE_MAX) {
    std::string out;
    char buffer[65536];
    while (out.size() < want) {
      if (!readable(socket)) return out + "<timeout>";
      const test::IoResult r = test::recv(socket, buffer, sizeof buffer);
      if (r.error) return out + error_text(r.error);
      if (r.bytes == 0) break;
      out.append(buffer, r.bytes);
    }
    return out;
  }

  static void send_text(const Socket& socket, const std::string& text) {
    const test::IoResult r = test::send(socket, text);
    ASSERT_FALSE(r.error) << r.error.message();
    ASSERT_EQ(r.bytes, text.size());
  }

  template <class Predicate>
  static bool eventually(Predicate predicate) {
    for (int i = 0; i < 500; ++i) {
      if (predicate()) return true;
      std::this_thread::sleep_for(10ms);
    }
    return predicate();
  }

  EngineConfig config_;
  std::unique_ptr<RelayEngine> engine_;
  std::uint64_t next_id_ = 1;
};

TEST_P(RelayEngineTest, ListensOnLoopbackOfEachFamily) {
  const net::Endpoint listener = engine_->tcp_listener(ipv6());
  EXPECT_EQ(listener.ip, loopback());
  EXPECT_NE(listener.port, 0);
}

TEST_P(RelayEngineTest, RelaysTcpBothWaysAndCounts) {
  Socket destination = listening_destination();
  std::shared_ptr<Flow> flow;
  Socket app = relayed_connection(port_of(destination), flow);
  Socket server = accept_one(destination);

  send_text(app, "hello from the app");
  EXPECT_EQ(read_text(server, 18), "hello from the app");
  send_text(server, "and back");
  EXPECT_EQ(read_text(app, 8), "and back");
  EXPECT_EQ(flow->state.load(), FlowState::open);
  EXPECT_TRUE(eventually([&] { return flow->counters.bytes_up == 18 && flow->counters.bytes_down == 8; }));
  EXPECT_EQ(engine_->counters().tcp_accepted, 1u);
}

TEST_P(RelayEngineTest, HalfCloseIsPassedOnAndTheOtherDirectionGoesOn) {
  Socket destination = listening_destination();
  std::shared_ptr<Flow> flow;
  Socket app = relayed_connection(port_of(destination), flow);
  Socket server = accept_one(destination);

  send_text(app, "request");
  test::shutdown_send(app);
  EXPECT_EQ(read_text(server), "request");  // ends: the FIN came through
  send_text(server, "response after the client's FIN");
  server.close();
  EXPECT_EQ(read_text(app), "response after the client's FIN");
  EXPECT_TRUE(eventually([&] { return flow->state == FlowState::closed; }));
  EXPECT_TRUE(eventually([&] { return engine_->counters().flows_active == 0; }));
}

TEST_P(RelayEngineTest, UnreachableDestinationResetsTheApplication) {
  std::uint16_t closed_port;
  {
    Socket unused = bound_socket(true, true);
    closed_port = port_of(unused);
  }  // nothing listens there now
  std::shared_ptr<Flow> flow;
  Socket app = relayed_connection(closed_port, flow);
  // The rule of the contract: never an empty success. The stream ends in a reset.
  EXPECT_EQ(read_text(app), kReset);
  EXPECT_TRUE(eventually([&] { return flow->state == FlowState::failed; }));
  EXPECT_NE(flow->error.find("connect to"), std::string::npos) << flow->error;
  EXPECT_EQ(engine_->counters().tcp_connect_failures, 1u);
}

TEST_P(RelayEngineTest, DestinationResetReachesTheApplication) {
  Socket destination = listening_destination();
  std::shared_ptr<Flow> flow;
  Socket app = relayed_connection(port_of(destination), flow);
  Socket server = accept_one(destination);
  send_text(app, "x");
  EXPECT_EQ(read_text(server, 1), "x");
  test::close_with_reset(server);
  EXPECT_EQ(read_text(app), kReset);
  EXPECT_TRUE(eventually([&] { return flow->state == FlowState::failed; }));
}

TEST_P(RelayEngineTest, UnexpectedConnectionIsResetAtOnce) {
  Socket app = bound_socket(true, false);
  ASSERT_FALSE(test::connect(app, endpoint_of(engine_->tcp_listener(ipv6()))));
  EXPECT_EQ(read_text(app), kReset);
  EXPECT_EQ(engine_->counters().tcp_unexpected, 1u);
}

// The port-squatting attack, as the engine sees it: a flow expects a connection from
// an address, but the socket that connects from there is not the one its
// registration proved (here: the expectation carries another socket's identity).
// The connection is reset and counted, and nothing reaches the destination.
TEST_P(RelayEngineTest, AConnectionFromAnotherSocketThanTheRegisteredOneIsReset) {
  SLUICE_SKIP_UNLESS_SYSTEM_REPORTS_SOCKET_OWNERS();
  Socket destination = listening_destination();
  Socket squatter = bound_socket(true, false);
  Socket victim = bound_socket(true, false);
  auto flow = make_flow(policy::Protocol::tcp, victim, port_of(destination));
  // Another socket (Linux: another inode) of another process (Windows: another pid;
  // this test is one process, so the pid is made another's).
  flow->app_socket = find_owned_bound_socket(policy::Protocol::tcp, net::Endpoint{wildcard(), port_of(squatter)}, platform::current_pid());
  if (flow->app_socket.pid >= 0) flow->app_socket.pid += 4;
  engine_->expect_tcp(flow);
  ASSERT_FALSE(test::connect(victim, endpoint_of(engine_->tcp_listener(ipv6()))));
  EXPECT_EQ(read_text(victim), kReset);
  EXPECT_FALSE(readable(destination, 200)) << "the destination was connected to";
  EXPECT_EQ(engine_->counters().tcp_wrong_owner, 1u);
  EXPECT_EQ(flow->state.load(), FlowState::pending) << "the expectation stays for its own socket";
}

// The same decision where the system's tables cannot show it at accept time: under
// Wine a socket that has only connected is listed with owning pid 0 (only wineserver
// holds it yet), so the real tables name no owner there. The tables are injected at
// the OS boundary (SocketTables) with one row for the application's connection, and
// the real relay (IOCP under Wine, epoll natively) decides from that row alone.
class InjectedOwnerTable {
 public:
  // The row for the connection whose client side is `local` and whose server side is
  // `remote` (the relay listener), owned as `owner` says.
  void set(const net::Endpoint& local, const net::Endpoint& remote, const SocketIdentity& owner) {
    std::lock_guard lock(mutex_);
    local_ = local;
    remote_ = remote;
    owner_ = owner;
  }
  std::uint64_t lookups() {
    std::lock_guard lock(mutex_);
    return lookups_;
  }
  SocketTables tables() {
    SocketTables tables;
    tables.reports_owners = [] { return true; };
    tables.connected = [this](const net::Endpoint& local, const net::Endpoint& remote) -> std::optional<SocketIdentity> {
      std::lock_guard lock(mutex_);
      ++lookups_;
      if (local == local_ && remote == remote_) return owner_;
      return std::nullopt;
    };
    return tables;
  }

 private:
  std::mutex mutex_;
  net::Endpoint local_, remote_;
  SocketIdentity owner_;
  std::uint64_t lookups_ = 0;
};

// The registered owner, and another: every field differs (Linux compares the socket's
// inode and uid, Windows the owning pid).
const SocketIdentity kOwner{7001, 1000, 4100};
const SocketIdentity kSomeoneElse{7002, 1001, 4104};

TEST_P(RelayEngineTest, AnOwnerTableNamingAnotherProcessResetsTheConnection) {
  InjectedOwnerTable table;
  restart_with([&](EngineConfig& config) { config.socket_tables = table.tables(); });
  Socket destination = listening_destination();
  Socket app = bound_socket(true, false);
  auto flow = make_flow(policy::Protocol::tcp, app, port_of(destination));
  flow->app_socket = kOwner;
  const net::Endpoint listener = engine_->tcp_listener(ipv6());
  table.set(net::Endpoint{loopback(), port_of(app)}, listener, kSomeoneElse);
  engine_->expect_tcp(flow);
  ASSERT_FALSE(test::connect(app, endpoint_of(listener)));
  EXPECT_EQ(read_text(app), kReset);
  EXPECT_FALSE(readable(destination, 200)) << "the destination was connected to";
  EXPECT_EQ(engine_->counters().tcp_wrong_owner, 1u);
  EXPECT_EQ(table.lookups(), 1u) << "the relay did not ask the table";
  EXPECT_EQ(flow->state.load(), FlowState::pending) << "the expectation stays for its own socket";
}

TEST_P(RelayEngineTest, AnOwnerTableNamingTheFlowsOwnerRelaysTheConnection) {
  InjectedOwnerTable table;
  restart_with([&](EngineConfig& config) { config.socket_tables = table.tables(); });
  Socket destination = listening_destination();
  Socket app = bound_socket(true, false);
  auto flow = make_flow(policy::Protocol::tcp, app, port_of(destination));
  flow->app_socket = kOwner;
  const net::Endpoint listener = engine_->tcp_listener(ipv6());
  table.set(net::Endpoint{loopback(), port_of(app)}, listener, kOwner);
  engine_->expect_tcp(flow);
  ASSERT_FALSE(test::connect(app, endpoint_of(listener)));
  Socket server = accept_one(destination);
  send_text(app, "owned");
  EXPECT_EQ(read_text(server, 5), "owned");
  EXPECT_EQ(engine_->counters().tcp_wrong_owner, 0u);
  EXPECT_EQ(table.lookups(), 1u);
}

// Across families: an IPv4 registration is not claimed by a connection from the
// same port over IPv6, whoever makes it (the IPv6 socket here even is the one the
// expectation names, which a registration could never prove).
TEST_P(RelayEngineTest, AnIpv4ExpectationIsNotClaimedOverIpv6) {
  Socket destination = listening_destination();
  Socket app = test::tcp_socket(true);
  ASSERT_FALSE(test::bind(app, Endpoint{"::", 0}));
  auto flow = std::make_shared<Flow>();
  flow->id = next_id_++;
  flow->app_local = net::Endpoint{*net::parse_ip("::"), port_of(app)};
  flow->destination = net::Endpoint{loopback(), port_of(destination)};
  flow->app_socket = find_owned_bound_socket(policy::Protocol::tcp, flow->app_local, platform::current_pid());
  flow->app_local.ip = *net::parse_ip("0.0.0.0");
  engine_->expect_tcp(flow);
  ASSERT_FALSE(test::connect(app, endpoint_of(engine_->tcp_listener(true))));
  EXPECT_EQ(read_text(app), kReset);
  EXPECT_EQ(engine_->counters().tcp_unexpected, 1u);
}

TEST_P(RelayEngineTest, EmptyBucketHoldsTcpBackUntilTheRateRises) {
  Socket destination = listening_destination();
  auto bucket = std::make_shared<TokenBucket>(0, 4096);  // the burst, then nothing
  std::shared_ptr<Flow> flow;
  Socket app = relayed_connection(port_of(destination), flow, bucket);
  Socket server = accept_one(destination);

  // Back-pressure: the application's non-blocking send fills its buffers and then
  // gets EAGAIN / WSAEWOULDBLOCK, as with a slow peer.
  const std::string chunk(64 * 1024, 'q');
  std::size_t sent = 0;
  for (int i = 0; i < 1000; ++i) {
    const test::IoResult r = test::send_without_waiting(app, chunk);
    if (r.error) {
      EXPECT_EQ(r.error, std::errc::operation_would_block) << r.error.message();
      break;
    }
    sent += r.bytes;
  }
  ASSERT_LT(sent, 1000 * chunk.size()) << "send never blocked";
  EXPECT_EQ(read_text(server, 4096).size(), 4096u);
  EXPECT_FALSE(readable(server, 300)) << "bytes passed an empty bucket";

  bucket->set_rate(1ull << 40, 1ull << 30);
  test::shutdown_send(app);
  EXPECT_EQ(read_text(server).size(), sent - 4096);
  EXPECT_TRUE(eventually([&] { return flow->counters.bytes_up == sent; }));
}

TEST_P(RelayEngineTest, UdpAssociationForwardsAndAnswersFromItsAddress) {
  Socket destination = bound_socket(false, true);
  Socket app = bound_socket(false, false);
  auto flow = make_flow(policy::Protocol::udp, app, port_of(destination));
  const net::Endpoint association = engine_->open_udp(flow);
  EXPECT_EQ(association.ip, loopback());

  const Endpoint to = endpoint_of(association);
  ASSERT_EQ(test::send_to(app, "ping", to).bytes, 4u);
  ASSERT_TRUE(readable(destination));
  char buffer[64];
  Endpoint from;
  ASSERT_EQ(test::recv_from(destination, buffer, sizeof buffer, from).bytes, 4u);
  ASSERT_EQ(test::send_to(destination, "pong", from).bytes, 4u);

  ASSERT_TRUE(readable(app));
  Endpoint source;
  ASSERT_EQ(test::recv_from(app, buffer, sizeof buffer, source).bytes, 4u);
  EXPECT_EQ(std::string(buffer, 4), "pong");
  EXPECT_EQ(source, to) << "the answer comes from the association address";
  EXPECT_TRUE(eventually([&] { return flow->counters.packets_up == 1 && flow->counters.packets_down == 1; }));
  EXPECT_EQ(flow->counters.bytes_up, 4u);
}

TEST_P(RelayEngineTest, UdpAssociationIgnoresOtherSenders) {
  Socket destination = bound_socket(false, true);
  Socket app = bound_socket(false, false);
  auto flow = make_flow(policy::Protocol::udp, app, port_of(destination));
  const Endpoint to = endpoint_of(engine_->open_udp(flow));
  Socket stranger = bound_socket(false, false);
  test::send_to(stranger, "intruder", to);
  test::send_to(app, "mine", to);
  char buffer[64];
  ASSERT_TRUE(readable(destination));
  const test::IoResult r = test::recv(destination, buffer, sizeof buffer);
  EXPECT_EQ(std::string(buffer, r.bytes), "mine");
  EXPECT_FALSE(readable(destination, 200));
}

TEST_P(RelayEngineTest, UdpOverBudgetIsQueuedToTheBoundThenDropped) {
  Socket destination = bound_socket(false, true);
  Socket app = bound_socket(false, false);
  auto flow = make_flow(policy::Protocol::udp, app, port_of(destination));
  auto bucket = std::make_shared<TokenBucket>(0, 1000);  // one 1000-byte datagram, then nothing
  flow->limits.up.push_back(bucket);
  const Endpoint to = endpoint_of(engine_->open_udp(flow));
  const std::string datagram(1000, 'd');
  for (int i = 0; i < 10; ++i) test::send_to(app, datagram, to);

  // One passes, three wait (the bound set up above), six are dropped and counted.
  EXPECT_TRUE(eventually([&] { return flow->counters.dropped == 6; })) << flow->counters.dropped;
  char buffer[2000];
  ASSERT_TRUE(readable(destination));
  EXPECT_EQ(test::recv(destination, buffer, sizeof buffer).bytes, 1000u);
  EXPECT_FALSE(readable(destination, 300));
  bucket->set_rate(1'000'000, 100'000);
  for (int i = 0; i < 3; ++i) {
    ASSERT_TRUE(readable(destination)) << "queued datagram " << i;
    EXPECT_EQ(test::recv(destination, buffer, sizeof buffer).bytes, 1000u);
  }
  EXPECT_EQ(engine_->counters().udp_dropped, 6u);
  EXPECT_TRUE(eventually([&] { return flow->counters.packets_up == 4; }));
}

// One user's associations share one allowance of queued bytes (issue 17: a queue
// bounded in datagrams only lets 512 of 64 KiB each wait, per direction and association).
TEST_P(RelayEngineTest, UdpQueuesOfOneUserShareTheirBytesAllowance) {
  Socket destination = bound_socket(false, true);
  auto allowance = std::make_shared<UserQueuedBytes>(2000);
  auto bucket = std::make_shared<TokenBucket>(0, 1000);  // one 1000-byte datagram, then nothing
  Socket apps[2] = {bound_socket(false, false), bound_socket(false, false)};
  std::shared_ptr<Flow> flows[2];
  Endpoint to[2];
  for (int i = 0; i < 2; ++i) {
    flows[i] = make_flow(policy::Protocol::udp, apps[i], port_of(destination));
    flows[i]->limits.up.push_back(bucket);
    flows[i]->user_queue = allowance;
    to[i] = endpoint_of(engine_->open_udp(flows[i]));
  }
  const std::string datagram(1000, 'd');
  for (int i = 0; i < 3; ++i) test::send_to(apps[0], datagram, to[0]);
  // One passes, two wait (within the fixture's bound of three a direction), and the
  // allowance is spent: the other association queues nothing.
  ASSERT_TRUE(eventually([&] { return allowance->held() == 2000; })) << allowance->held();
  for (int i = 0; i < 4; ++i) test::send_to(apps[1], datagram, to[1]);
  EXPECT_TRUE(eventually([&] { return flows[1]->counters.dropped == 4; })) << flows[1]->counters.dropped;
  EXPECT_EQ(flows[0]->counters.dropped, 0u);
  EXPECT_EQ(allowance->held(), 2000u);

  // Closing the association gives its queued bytes back.
  engine_->close_flow(flows[0]->id);
  EXPECT_TRUE(eventually([&] { return allowance->held() == 0; })) << allowance->held();
}

TEST_P(RelayEngineTest, ClosedAssociationForwardsNothingMore) {
  Socket destination = bound_socket(false, true);
  Socket app = bound_socket(false, false);
  auto flow = make_flow(policy::Protocol::udp, app, port_of(destination));
  const Endpoint to = endpoint_of(engine_->open_udp(flow));
  engine_->close_flow(flow->id);
  EXPECT_TRUE(eventually([&] { return flow->state == FlowState::closed; }));
  test::send_to(app, "late", to);
  EXPECT_FALSE(readable(destination, 200));
}

TEST_P(RelayEngineTest, AnExpectationNobodyClaimsExpires) {
  restart_with([](EngineConfig& c) { c.tcp_expect_timeout = 50ms; });
  Socket app = bound_socket(true, false);
  auto flow = make_flow(policy::Protocol::tcp, app, 9);
  engine_->expect_tcp(flow);
  EXPECT_TRUE(eventually([&] { return flow->state == FlowState::failed; }));
  EXPECT_EQ(flow->error, "the application never connected");
  // Too late: the registration is gone, so the connection is a stranger's.
  ASSERT_FALSE(test::connect(app, endpoint_of(engine_->tcp_listener(ipv6()))));
  EXPECT_EQ(read_text(app), kReset);
  EXPECT_EQ(engine_->counters().tcp_unexpected, 1u);
}

TEST_P(RelayEngineTest, AnIdleAssociationClosesItself) {
  restart_with([](EngineConfig& c) { c.udp_idle_timeout = 100ms; });
  Socket destination = bound_socket(false, true);
  Socket app = bound_socket(false, false);
  auto flow = make_flow(policy::Protocol::udp, app, port_of(destination));
  engine_->open_udp(flow);
  EXPECT_TRUE(eventually([&] { return flow->state == FlowState::closed; }));
  EXPECT_TRUE(flow->error.empty()) << flow->error;
  EXPECT_TRUE(eventually([&] { return engine_->counters().flows_active == 0; }));
}

// relay-tcp-idle-timeout: two connections through one engine with the same 300 ms
// timeout. The quiet one is reset at both ends and counted; the one that keeps moving
// a byte (each direction in turn) lives on long after. No timing is asserted beyond
// "reset within the read wait": the active side only needs a gap under the timeout.
TEST_P(RelayEngineTest, AQuietRelayedConnectionIsResetAfterTheIdleTimeoutAnActiveOneIsNot) {
  // 600 ms: the active connection moves a byte every 20 ms or so, and on a loaded
  // machine under Wine the test itself can stall for a few hundred.
  restart_with([](EngineConfig& c) { c.tcp_idle_timeout = 600ms; });
  Socket destination = listening_destination();
  std::shared_ptr<Flow> quiet_flow, active_flow;
  Socket quiet_app = relayed_connection(port_of(destination), quiet_flow);
  Socket quiet_server = accept_one(destination);
  Socket active_app = relayed_connection(port_of(destination), active_flow);
  Socket active_server = accept_one(destination);
  send_text(quiet_app, "q");
  ASSERT_EQ(read_text(quiet_server, 1), "q");

  // Bounded: at most 250 rounds of about 20 ms, and it ends 1.2 s (two timeouts)
  // after the quiet connection was seen closed.
  std::chrono::steady_clock::time_point quiet_closed_at{};
  for (int round = 0; round < 250; ++round) {
    const bool up = round % 2 == 0;
    send_text(up ? active_app : active_server, "a");
    ASSERT_EQ(read_text(up ? active_server : active_app, 1), "a") << "round " << round;
    const auto now = std::chrono::steady_clock::now();
    if (quiet_closed_at == std::chrono::steady_clock::time_point{} && quiet_flow->state != FlowState::open) {
      quiet_closed_at = now;
    }
    if (quiet_closed_at != std::chrono::steady_clock::time_point{} && now - quiet_closed_at > 1200ms) break;
    std::this_thread::sleep_for(20ms);
  }
  ASSERT_NE(quiet_closed_at, std::chrono::steady_clock::time_point{}) << "the quiet connection was never closed";

  EXPECT_EQ(read_text(quiet_app), kReset);
  EXPECT_EQ(read_text(quiet_server), kReset);
  EXPECT_EQ(quiet_flow->state.load(), FlowState::closed);
  EXPECT_NE(quiet_flow->error.find("no traffic"), std::string::npos) << quiet_flow->error;
  EXPECT_EQ(active_flow->state.load(), FlowState::open) << active_flow->error;
  send_text(active_app, "still here");
  EXPECT_EQ(read_text(active_server, 10), "still here");
  EXPECT_EQ(engine_->counters().tcp_idle_closed, 1u);
  EXPECT_TRUE(eventually([&] { return engine_->counters().flows_active == 1; }));
}

// The default, 0: a connection quiet for longer than the timeout above is still relayed.
TEST_P(RelayEngineTest, WithoutATcpIdleTimeoutAQuietConnectionStays) {
  ASSERT_EQ(config_.tcp_idle_timeout, 0ms);
  Socket destination = listening_destination();
  std::shared_ptr<Flow> flow;
  Socket app = relayed_connection(port_of(destination), flow);
  Socket server = accept_one(destination);
  send_text(app, "x");
  ASSERT_EQ(read_text(server, 1), "x");
  std::this_thread::sleep_for(900ms);
  EXPECT_FALSE(readable(app, 0));
  EXPECT_EQ(flow->state.load(), FlowState::open) << flow->error;
  send_text(server, "later");
  EXPECT_EQ(read_text(app, 5), "later");
  EXPECT_EQ(engine_->counters().tcp_idle_closed, 0u);
}

TEST_P(RelayEngineTest, StoppingCutsRelayedConnections) {
  Socket destination = listening_destination();
  std::shared_ptr<Flow> flow;
  Socket app = relayed_connection(port_of(destination), flow);
  Socket server = accept_one(destination);
  send_text(app, "x");
  EXPECT_EQ(read_text(server, 1), "x");
  engine_->stop();
  EXPECT_EQ(read_text(app), kReset);
  EXPECT_EQ(flow->state.load(), FlowState::closed);
}

// Stopping while every flow has operations outstanding (reads posted on each socket,
// data in flight): each flow ends, none is left counted, and the engine's memory is
// not freed under an operation still running (the classic completion-port pitfall).
TEST_P(RelayEngineTest, StoppingWithManyFlowsInFlightEndsEveryOne) {
  constexpr int kTcpFlows = 12;
  constexpr int kUdpFlows = 6;
  Socket destination = listening_destination();
  std::vector<std::shared_ptr<Flow>> flows(kTcpFlows);
  std::vector<Socket> apps, servers;
  for (int i = 0; i < kTcpFlows; ++i) {
    apps.push_back(relayed_connection(port_of(destination), flows[i]));
    servers.push_back(accept_one(destination));
    send_text(apps.back(), "up");
    send_text(servers.back(), "down");
  }
  Socket udp_destination = bound_socket(false, true);
  std::vector<Socket> udp_apps;
  for (int i = 0; i < kUdpFlows; ++i) {
    udp_apps.push_back(bound_socket(false, false));
    auto flow = make_flow(policy::Protocol::udp, udp_apps.back(), port_of(udp_destination));
    test::send_to(udp_apps.back(), "datagram", endpoint_of(engine_->open_udp(flow)));
    flows.push_back(flow);
  }
  EXPECT_TRUE(eventually([&] { return engine_->counters().flows_active == kTcpFlows + kUdpFlows; }))
      << engine_->counters().flows_active;

  engine_->stop();
  EXPECT_EQ(engine_->counters().flows_active, 0u);
  for (const auto& flow : flows) EXPECT_EQ(flow->state.load(), FlowState::closed) << "flow " << flow->id;
  for (const Socket& app : apps) {
    const std::string text = read_text(app);
    EXPECT_TRUE(text.size() >= kReset.size() && text.compare(text.size() - kReset.size(), kReset.size(), kReset) == 0)
        << text;
  }
  engine_->stop();  // idempotent
  EXPECT_EQ(engine_->counters().flows_active, 0u);
}

// What relay_engine.h promises of a stopped engine: its listener is closed, a
// registration never connected is dropped, no new flow is taken, and it does not
// start again.
TEST_P(RelayEngineTest, AStoppedEngineTakesNoNewFlowsAndDoesNotStartAgain) {
  Socket destination = listening_destination();
  Socket registered = bound_socket(true, false);
  auto never_connected = make_flow(policy::Protocol::tcp, registered, port_of(destination));
  engine_->expect_tcp(never_connected);
  const net::Endpoint listener = engine_->tcp_listener(ipv6());
  ASSERT_NE(listener.port, 0);

  engine_->stop();
  EXPECT_EQ(never_connected->state.load(), FlowState::closed);
  EXPECT_EQ(never_connected->error, "the relay service stopped");
  EXPECT_EQ(engine_->tcp_listener(ipv6()), listener) << "it still answers";
  Socket late = bound_socket(true, false);
  EXPECT_TRUE(test::connect(late, endpoint_of(listener))) << "nothing listens there any more";

  Socket app = bound_socket(true, false);
  EXPECT_THROW(engine_->expect_tcp(make_flow(policy::Protocol::tcp, app, port_of(destination))), std::system_error);
  Socket udp_app = bound_socket(false, false);
  EXPECT_THROW(engine_->open_udp(make_flow(policy::Protocol::udp, udp_app, port_of(destination))), std::system_error);
  engine_->close_flow(never_connected->id);  // ignored
  EXPECT_THROW(engine_->start(), std::system_error) << "a stopped engine is made anew, not restarted";
  EXPECT_EQ(engine_->counters().flows_active, 0u);
}

// A start() that fails (here: the second listener's address is not one) leaves
// nothing listening, and the engine does not start again.
TEST_P(RelayEngineTest, AFailedStartLeavesNothingListening) {
  EngineConfig config = config_;
  (ipv6() ? config.ipv4_loopback : config.ipv6_loopback) = "not an address";
  RelayEngine engine(config);
  EXPECT_THROW(engine.start(), std::system_error);
  const net::Endpoint bound = engine.tcp_listener(ipv6());
  if (bound.port != 0) {  // the family bound before the failure, when it was the first
    Socket late = bound_socket(true, false);
    EXPECT_TRUE(test::connect(late, endpoint_of(bound))) << "its listener was closed again";
  }
  EXPECT_THROW(engine.start(), std::system_error);
  EXPECT_THROW(engine.expect_tcp(std::make_shared<Flow>()), std::system_error);
}

INSTANTIATE_TEST_SUITE_P(Families, RelayEngineTest, ::testing::Combine(::testing::Bool(), ::testing::Bool()),
                         [](const auto& info) {
                           return std::string(std::get<0>(info.param) ? "IPv6" : "IPv4") +
                                  (std::get<1>(info.param) ? "" : "_Fallback");
                         });

}  // namespace
}  // namespace sluice::relay
