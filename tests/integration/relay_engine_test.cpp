// The relay engine with real loopback sockets, over IPv4 and IPv6: TCP relayed both
// ways with half-close and resets, failures surfacing as resets, UDP associations,
// and token buckets holding traffic back. Every wait is bounded by poll().

#include "service/relay/relay_engine.h"

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstring>
#include <string>
#include <thread>

#include "service/policy/address.h"

namespace sluice::relay {
namespace {

using namespace std::chrono_literals;

constexpr int kWaitMs = 5000;

struct Fd {
  int fd = -1;
  explicit Fd(int f = -1) : fd(f) {}
  Fd(Fd&& o) noexcept : fd(std::exchange(o.fd, -1)) {}
  Fd& operator=(Fd&& o) noexcept {
    std::swap(fd, o.fd);
    return *this;
  }
  ~Fd() {
    if (fd >= 0) ::close(fd);
  }
  operator int() const { return fd; }
};

class RelayEngineTest : public ::testing::TestWithParam<bool> {
 protected:
  bool ipv6() const { return GetParam(); }
  int family() const { return ipv6() ? AF_INET6 : AF_INET; }
  policy::IpAddress loopback() const { return *policy::parse_ip(ipv6() ? "::1" : "127.0.0.1"); }
  policy::IpAddress wildcard() const { return *policy::parse_ip(ipv6() ? "::" : "0.0.0.0"); }

  void SetUp() override {
    Fd probe(::socket(family(), SOCK_DGRAM, 0));
    if (ipv6()) {
      sockaddr_in6 a{};
      a.sin6_family = AF_INET6;
      a.sin6_addr = in6addr_loopback;
      // Both families are part of the contract: a machine without ::1 fails, not skips.
      ASSERT_TRUE(probe >= 0 && ::bind(probe, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0)
          << "cannot bind ::1: this test needs IPv4 and IPv6 loopback";
    }
    EngineConfig config;
    config.workers = 2;
    config.udp_queue_datagrams = 3;
    engine_ = std::make_unique<RelayEngine>(config);
    engine_->start();
  }

  sockaddr_storage sockaddr_of(const Address& address, socklen_t& length) const {
    sockaddr_storage s{};
    if (policy::is_ipv4(address.ip)) {
      auto* in = reinterpret_cast<sockaddr_in*>(&s);
      in->sin_family = AF_INET;
      in->sin_port = htons(address.port);
      std::memcpy(&in->sin_addr, address.ip.bytes.data() + 12, 4);
      length = sizeof(sockaddr_in);
    } else {
      auto* in6 = reinterpret_cast<sockaddr_in6*>(&s);
      in6->sin6_family = AF_INET6;
      in6->sin6_port = htons(address.port);
      std::memcpy(&in6->sin6_addr, address.ip.bytes.data(), 16);
      length = sizeof(sockaddr_in6);
    }
    return s;
  }

  std::uint16_t port_of(int fd) const {
    sockaddr_storage s{};
    socklen_t length = sizeof s;
    ::getsockname(fd, reinterpret_cast<sockaddr*>(&s), &length);
    return ntohs(s.ss_family == AF_INET ? reinterpret_cast<sockaddr_in*>(&s)->sin_port
                                        : reinterpret_cast<sockaddr_in6*>(&s)->sin6_port);
  }

  // A socket bound to the loopback (destinations) or the wildcard (applications).
  Fd bound_socket(int type, bool on_loopback) const {
    Fd fd(::socket(family(), type, 0));
    socklen_t length;
    auto address = sockaddr_of(Address{on_loopback ? loopback() : wildcard(), 0}, length);
    EXPECT_EQ(::bind(fd, reinterpret_cast<sockaddr*>(&address), length), 0) << std::strerror(errno);
    return fd;
  }

  Fd listening_destination() const {
    Fd fd = bound_socket(SOCK_STREAM, true);
    EXPECT_EQ(::listen(fd, 16), 0);
    return fd;
  }

  std::shared_ptr<Flow> make_flow(policy::Protocol protocol, int app_fd, std::uint16_t destination_port) {
    auto flow = std::make_shared<Flow>();
    flow->id = next_id_++;
    flow->protocol = protocol;
    flow->app_local = Address{wildcard(), port_of(app_fd)};
    flow->destination = Address{loopback(), destination_port};
    return flow;
  }

  // Registers then connects an application socket through the relay, as the provider does.
  Fd relayed_connection(std::uint16_t destination_port, std::shared_ptr<Flow>& flow,
                        std::shared_ptr<TokenBucket> up_limit = nullptr) {
    Fd app = bound_socket(SOCK_STREAM, false);
    flow = make_flow(policy::Protocol::tcp, app, destination_port);
    if (up_limit) flow->limits.up.push_back(up_limit);
    engine_->expect_tcp(flow);
    socklen_t length;
    auto relay = sockaddr_of(engine_->tcp_listener(ipv6()), length);
    EXPECT_EQ(::connect(app, reinterpret_cast<sockaddr*>(&relay), length), 0) << std::strerror(errno);
    return app;
  }

  static bool readable(int fd, int ms = kWaitMs) {
    pollfd p{fd, POLLIN, 0};
    return ::poll(&p, 1, ms) == 1;
  }

  static Fd accept_one(int listener) {
    EXPECT_TRUE(readable(listener));
    return Fd(::accept(listener, nullptr, nullptr));
  }

  // Reads until `want` bytes, the end of stream or an error; "ERR:<errno>" on error.
  static std::string read_text(int fd, std::size_t want = SIZE_MAX) {
    std::string out;
    char buffer[65536];
    while (out.size() < want) {
      if (!readable(fd)) return out + "<timeout>";
      const ssize_t n = ::recv(fd, buffer, sizeof buffer, 0);
      if (n < 0) return out + "ERR:" + std::to_string(errno);
      if (n == 0) break;
      out.append(buffer, static_cast<std::size_t>(n));
    }
    return out;
  }

  static void send_text(int fd, const std::string& text) {
    ASSERT_EQ(::send(fd, text.data(), text.size(), MSG_NOSIGNAL), static_cast<ssize_t>(text.size()));
  }

  template <class Predicate>
  static bool eventually(Predicate predicate) {
    for (int i = 0; i < 500; ++i) {
      if (predicate()) return true;
      std::this_thread::sleep_for(10ms);
    }
    return predicate();
  }

  std::unique_ptr<RelayEngine> engine_;
  std::uint64_t next_id_ = 1;
};

TEST_P(RelayEngineTest, ListensOnLoopbackOfEachFamily) {
  const Address listener = engine_->tcp_listener(ipv6());
  EXPECT_EQ(listener.ip, loopback());
  EXPECT_NE(listener.port, 0);
}

TEST_P(RelayEngineTest, RelaysTcpBothWaysAndCounts) {
  Fd destination = listening_destination();
  std::shared_ptr<Flow> flow;
  Fd app = relayed_connection(port_of(destination), flow);
  Fd server = accept_one(destination);

  send_text(app, "hello from the app");
  EXPECT_EQ(read_text(server, 18), "hello from the app");
  send_text(server, "and back");
  EXPECT_EQ(read_text(app, 8), "and back");
  EXPECT_EQ(flow->state.load(), FlowState::open);
  EXPECT_TRUE(eventually([&] { return flow->counters.bytes_up == 18 && flow->counters.bytes_down == 8; }));
  EXPECT_EQ(engine_->counters().tcp_accepted, 1u);
}

TEST_P(RelayEngineTest, HalfCloseIsPassedOnAndTheOtherDirectionGoesOn) {
  Fd destination = listening_destination();
  std::shared_ptr<Flow> flow;
  Fd app = relayed_connection(port_of(destination), flow);
  Fd server = accept_one(destination);

  send_text(app, "request");
  ::shutdown(app, SHUT_WR);
  EXPECT_EQ(read_text(server), "request");  // ends: the FIN came through
  send_text(server, "response after the client's FIN");
  server = Fd();
  EXPECT_EQ(read_text(app), "response after the client's FIN");
  EXPECT_TRUE(eventually([&] { return flow->state == FlowState::closed; }));
  EXPECT_TRUE(eventually([&] { return engine_->counters().flows_active == 0; }));
}

TEST_P(RelayEngineTest, UnreachableDestinationResetsTheApplication) {
  std::uint16_t closed_port;
  {
    Fd unused = bound_socket(SOCK_STREAM, true);
    closed_port = port_of(unused);
  }  // nothing listens there now
  std::shared_ptr<Flow> flow;
  Fd app = relayed_connection(closed_port, flow);
  // The rule of the contract: never an empty success. The stream ends in a reset.
  EXPECT_EQ(read_text(app), "ERR:" + std::to_string(ECONNRESET));
  EXPECT_TRUE(eventually([&] { return flow->state == FlowState::failed; }));
  EXPECT_NE(flow->error.find("connect to"), std::string::npos) << flow->error;
  EXPECT_EQ(engine_->counters().tcp_connect_failures, 1u);
}

TEST_P(RelayEngineTest, DestinationResetReachesTheApplication) {
  Fd destination = listening_destination();
  std::shared_ptr<Flow> flow;
  Fd app = relayed_connection(port_of(destination), flow);
  Fd server = accept_one(destination);
  send_text(app, "x");
  EXPECT_EQ(read_text(server, 1), "x");
  const linger abort_close{1, 0};
  ::setsockopt(server, SOL_SOCKET, SO_LINGER, &abort_close, sizeof abort_close);
  server = Fd();
  EXPECT_EQ(read_text(app), "ERR:" + std::to_string(ECONNRESET));
  EXPECT_TRUE(eventually([&] { return flow->state == FlowState::failed; }));
}

TEST_P(RelayEngineTest, UnexpectedConnectionIsResetAtOnce) {
  Fd app = bound_socket(SOCK_STREAM, false);
  socklen_t length;
  auto relay = sockaddr_of(engine_->tcp_listener(ipv6()), length);
  ASSERT_EQ(::connect(app, reinterpret_cast<sockaddr*>(&relay), length), 0);
  EXPECT_EQ(read_text(app), "ERR:" + std::to_string(ECONNRESET));
  EXPECT_EQ(engine_->counters().tcp_unexpected, 1u);
}

TEST_P(RelayEngineTest, EmptyBucketHoldsTcpBackUntilTheRateRises) {
  Fd destination = listening_destination();
  auto bucket = std::make_shared<TokenBucket>(0, 4096);  // the burst, then nothing
  std::shared_ptr<Flow> flow;
  Fd app = relayed_connection(port_of(destination), flow, bucket);
  Fd server = accept_one(destination);

  // Back-pressure: the application's non-blocking send fills its buffers and then
  // gets EAGAIN, as with a slow peer.
  const std::string chunk(64 * 1024, 'q');
  std::size_t sent = 0;
  for (int i = 0; i < 1000; ++i) {
    const ssize_t n = ::send(app, chunk.data(), chunk.size(), MSG_DONTWAIT | MSG_NOSIGNAL);
    if (n < 0) {
      EXPECT_EQ(errno, EAGAIN);
      break;
    }
    sent += static_cast<std::size_t>(n);
  }
  ASSERT_LT(sent, 1000 * chunk.size()) << "send never blocked";
  EXPECT_EQ(read_text(server, 4096).size(), 4096u);
  EXPECT_FALSE(readable(server, 300)) << "bytes passed an empty bucket";

  bucket->set_rate(1ull << 40, 1ull << 30);
  ::shutdown(app, SHUT_WR);
  EXPECT_EQ(read_text(server).size(), sent - 4096);
  EXPECT_TRUE(eventually([&] { return flow->counters.bytes_up == sent; }));
}

TEST_P(RelayEngineTest, UdpAssociationForwardsAndAnswersFromItsAddress) {
  Fd destination = bound_socket(SOCK_DGRAM, true);
  Fd app = bound_socket(SOCK_DGRAM, false);
  auto flow = make_flow(policy::Protocol::udp, app, port_of(destination));
  const Address association = engine_->open_udp(flow);
  EXPECT_EQ(association.ip, loopback());

  socklen_t length;
  auto to = sockaddr_of(association, length);
  ASSERT_EQ(::sendto(app, "ping", 4, 0, reinterpret_cast<sockaddr*>(&to), length), 4);
  ASSERT_TRUE(readable(destination));
  char buffer[64];
  sockaddr_storage from{};
  socklen_t from_length = sizeof from;
  ASSERT_EQ(::recvfrom(destination, buffer, sizeof buffer, 0, reinterpret_cast<sockaddr*>(&from), &from_length), 4);
  ASSERT_EQ(::sendto(destination, "pong", 4, 0, reinterpret_cast<sockaddr*>(&from), from_length), 4);

  ASSERT_TRUE(readable(app));
  sockaddr_storage source{};
  socklen_t source_length = sizeof source;
  ASSERT_EQ(::recvfrom(app, buffer, sizeof buffer, 0, reinterpret_cast<sockaddr*>(&source), &source_length), 4);
  EXPECT_EQ(std::string(buffer, 4), "pong");
  EXPECT_EQ(std::memcmp(&source, &to, length), 0) << "the answer comes from the association address";
  EXPECT_TRUE(eventually([&] { return flow->counters.packets_up == 1 && flow->counters.packets_down == 1; }));
  EXPECT_EQ(flow->counters.bytes_up, 4u);
}

TEST_P(RelayEngineTest, UdpAssociationIgnoresOtherSenders) {
  Fd destination = bound_socket(SOCK_DGRAM, true);
  Fd app = bound_socket(SOCK_DGRAM, false);
  auto flow = make_flow(policy::Protocol::udp, app, port_of(destination));
  socklen_t length;
  auto to = sockaddr_of(engine_->open_udp(flow), length);
  Fd stranger = bound_socket(SOCK_DGRAM, false);
  ::sendto(stranger, "intruder", 8, 0, reinterpret_cast<sockaddr*>(&to), length);
  ::sendto(app, "mine", 4, 0, reinterpret_cast<sockaddr*>(&to), length);
  char buffer[64];
  ASSERT_TRUE(readable(destination));
  EXPECT_EQ(std::string(buffer, static_cast<std::size_t>(::recv(destination, buffer, sizeof buffer, 0))), "mine");
  EXPECT_FALSE(readable(destination, 200));
}

TEST_P(RelayEngineTest, UdpOverBudgetIsQueuedToTheBoundThenDropped) {
  Fd destination = bound_socket(SOCK_DGRAM, true);
  Fd app = bound_socket(SOCK_DGRAM, false);
  auto flow = make_flow(policy::Protocol::udp, app, port_of(destination));
  auto bucket = std::make_shared<TokenBucket>(0, 1000);  // one 1000-byte datagram, then nothing
  flow->limits.up.push_back(bucket);
  socklen_t length;
  auto to = sockaddr_of(engine_->open_udp(flow), length);
  const std::string datagram(1000, 'd');
  for (int i = 0; i < 10; ++i) ::sendto(app, datagram.data(), datagram.size(), 0, reinterpret_cast<sockaddr*>(&to), length);

  // One passes, three wait (the bound set up above), six are dropped and counted.
  EXPECT_TRUE(eventually([&] { return flow->counters.dropped == 6; })) << flow->counters.dropped;
  char buffer[2000];
  ASSERT_TRUE(readable(destination));
  EXPECT_EQ(::recv(destination, buffer, sizeof buffer, 0), 1000);
  EXPECT_FALSE(readable(destination, 300));
  bucket->set_rate(1'000'000, 100'000);
  for (int i = 0; i < 3; ++i) {
    ASSERT_TRUE(readable(destination)) << "queued datagram " << i;
    EXPECT_EQ(::recv(destination, buffer, sizeof buffer, 0), 1000);
  }
  EXPECT_EQ(engine_->counters().udp_dropped, 6u);
  EXPECT_TRUE(eventually([&] { return flow->counters.packets_up == 4; }));
}

TEST_P(RelayEngineTest, ClosedAssociationForwardsNothingMore) {
  Fd destination = bound_socket(SOCK_DGRAM, true);
  Fd app = bound_socket(SOCK_DGRAM, false);
  auto flow = make_flow(policy::Protocol::udp, app, port_of(destination));
  socklen_t length;
  auto to = sockaddr_of(engine_->open_udp(flow), length);
  engine_->close_flow(flow->id);
  EXPECT_TRUE(eventually([&] { return flow->state == FlowState::closed; }));
  ::sendto(app, "late", 4, 0, reinterpret_cast<sockaddr*>(&to), length);
  EXPECT_FALSE(readable(destination, 200));
}

TEST_P(RelayEngineTest, StoppingCutsRelayedConnections) {
  Fd destination = listening_destination();
  std::shared_ptr<Flow> flow;
  Fd app = relayed_connection(port_of(destination), flow);
  Fd server = accept_one(destination);
  send_text(app, "x");
  EXPECT_EQ(read_text(server, 1), "x");
  engine_->stop();
  EXPECT_EQ(read_text(app), "ERR:" + std::to_string(ECONNRESET));
  EXPECT_EQ(flow->state.load(), FlowState::closed);
}

INSTANTIATE_TEST_SUITE_P(Families, RelayEngineTest, ::testing::Values(false, true),
                         [](const auto& info) { return info.param ? "IPv6" : "IPv4"; });

}  // namespace
}  // namespace sluice::relay
