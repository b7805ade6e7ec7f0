// The IOCP relay's memory at rest, under Wine: a relayed TCP connection that is idle
// holds none of the relay's 64 KiB buffers (it waits with a zero-byte WSARecv), and
// each one still carries data both ways after it has been idle. Counted by the relay
// itself (EngineCounters::buffers_in_use): Wine's GetProcessMemoryInfo reports no
// private bytes, and a pending receive's buffer is never touched, so the working set
// would not show it either. Over IPv4 and IPv6, on the inline-completion path and with
// every completion through the port. Every wait is bounded.

#include <gtest/gtest.h>

#include <chrono>
#include <iostream>
#include <memory>
#include <string>
#include <thread>
#include <tuple>
#include <vector>

#include "common/platform/platform.h"
#include "net/ip_address.h"
#include "service/relay/relay_engine.h"
#include "service/relay/socket_owner.h"
#include "tests/support/test_socket.h"

namespace sluice::relay {
namespace {

using namespace std::chrono_literals;
using test::Endpoint;
using test::Socket;

constexpr int kWaitMs = 5000;
constexpr int kFlows = 16;

class IocpRelayMemoryTest : public ::testing::TestWithParam<std::tuple<bool, bool>> {
 protected:
  bool ipv6() const { return std::get<0>(GetParam()); }
  std::string loopback_text() const { return ipv6() ? "::1" : "127.0.0.1"; }
  std::string wildcard_text() const { return ipv6() ? "::" : "0.0.0.0"; }

  void SetUp() override {
    test::start_sockets();
    if (ipv6()) {
      ASSERT_TRUE(test::ipv6_loopback_available()) << "cannot bind ::1";
    }
    EngineConfig config;
    config.workers = 2;
    config.inline_completions = std::get<1>(GetParam());
    engine_ = std::make_unique<RelayEngine>(config);
    engine_->start();
  }

  Socket bound(bool on_loopback) const {
    Socket socket = test::tcp_socket(ipv6());
    EXPECT_FALSE(test::bind(socket, Endpoint{on_loopback ? loopback_text() : wildcard_text(), 0}));
    return socket;
  }

  // An application socket connected through the relay to `destination`, as the
  // provider connects one, and the destination's end of it.
  void relay_one(const Socket& destination, std::vector<Socket>& apps, std::vector<Socket>& ends) {
    Socket app = bound(false);
    auto flow = std::make_shared<Flow>();
    flow->id = next_id_++;
    flow->protocol = policy::Protocol::tcp;
    flow->app_local = net::Endpoint{*net::parse_ip(wildcard_text()), test::local_endpoint(app).port};
    flow->destination = net::Endpoint{*net::parse_ip(loopback_text()), test::local_endpoint(destination).port};
    flow->app_socket = find_owned_bound_socket(policy::Protocol::tcp, flow->app_local, platform::current_pid());
    engine_->expect_tcp(flow);
    const net::Endpoint listener = engine_->tcp_listener(ipv6());
    ASSERT_FALSE(test::connect(app, Endpoint{net::format_ip(listener.ip), listener.port}));
    ASSERT_TRUE(test::readable(destination, kWaitMs));
    ends.push_back(test::accept(destination));
    apps.push_back(std::move(app));
  }

  // One message each way on every connection.
  static void round_trip(std::vector<Socket>& apps, std::vector<Socket>& ends, const std::string& tag) {
    for (std::size_t i = 0; i < apps.size(); ++i) {
      const std::string up = tag + " up " + std::to_string(i), down = tag + " down " + std::to_string(i);
      ASSERT_FALSE(test::send(apps[i], up).error);
      ASSERT_EQ(read_exactly(ends[i], up.size()), up) << "connection " << i;
      ASSERT_FALSE(test::send(ends[i], down).error);
      ASSERT_EQ(read_exactly(apps[i], down.size()), down) << "connection " << i;
    }
  }

  static std::string read_exactly(const Socket& socket, std::size_t want) {
    std::string out;
    char buffer[256];
    while (out.size() < want && test::readable(socket, kWaitMs)) {
      const test::IoResult r = test::recv(socket, buffer, std::min(sizeof buffer, want - out.size()));
      if (r.error || r.bytes == 0) break;
      out.append(buffer, r.bytes);
    }
    return out;
  }

  // Buffers out once the relay is at rest (a send's buffer comes back just after its
  // completion, so the count is read until it settles, a bounded number of times).
  std::uint64_t buffers_at_rest() const {
    std::uint64_t seen = engine_->counters().buffers_in_use;
    for (int i = 0; i < 200 && seen != 0; ++i) {
      std::this_thread::sleep_for(10ms);
      seen = engine_->counters().buffers_in_use;
    }
    return seen;
  }

  std::unique_ptr<RelayEngine> engine_;
  std::uint64_t next_id_ = 1;
};

TEST_P(IocpRelayMemoryTest, IdleRelayedConnectionsHoldNoBuffersAndStillCarryData) {
  Socket destination = bound(true);
  ASSERT_FALSE(test::listen(destination, kFlows));
  std::vector<Socket> apps, ends;
  for (int i = 0; i < kFlows; ++i) {
    relay_one(destination, apps, ends);
    if (HasFatalFailure()) return;
  }
  round_trip(apps, ends, "first");
  if (HasFatalFailure()) return;
  const std::uint64_t idle = buffers_at_rest();
  std::cout << "relay buffers held by " << kFlows << " idle relayed connections: " << idle << " ("
            << idle * 64 << " KiB)\n";
  RecordProperty("idle_buffers", std::to_string(idle));
  // Before the zero-byte reads: a 64 KiB receive pending per direction, 2 per flow.
  EXPECT_EQ(idle, 0u);
  // Idle, they still wake for data, both ways.
  round_trip(apps, ends, "after idle");
  EXPECT_EQ(engine_->counters().flows_active, static_cast<std::uint64_t>(kFlows));
}

INSTANTIATE_TEST_SUITE_P(Families, IocpRelayMemoryTest, ::testing::Combine(::testing::Bool(), ::testing::Bool()),
                         [](const auto& info) {
                           return std::string(std::get<0>(info.param) ? "IPv6" : "IPv4") +
                                  (std::get<1>(info.param) ? "Inline" : "ThroughThePort");
                         });

}  // namespace
}  // namespace sluice::relay
