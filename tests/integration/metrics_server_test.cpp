// The /metrics endpoint over real loopback sockets, IPv4 and IPv6: what it serves,
// what it refuses, and that idle clients and stop() cannot wedge it.
#include "service/metrics/metrics_server.h"

#include <gtest/gtest.h>

#include <future>
#include <stdexcept>
#include <system_error>

#include "control/protocol/prometheus.h"
#include "net/ip_address.h"
#include "service/metrics/metrics_source.h"
#include "tests/support/exposition_checker.h"
#include "tests/support/test_socket.h"

namespace sluice::service::metrics {
namespace {

using namespace std::chrono_literals;
using protocol::json;

constexpr int kWaitMs = 5000;  // bound of every wait for the server

test::Endpoint endpoint_of(const MetricsServer& server) {
  return test::Endpoint{net::format_ip(server.address().ip), server.address().port};
}

test::Socket connect_to(const MetricsServer& server) {
  const test::Endpoint at = endpoint_of(server);
  test::Socket s = test::tcp_socket(at.ip.find(':') != std::string::npos);
  EXPECT_FALSE(test::connect(s, at));
  return s;
}

// Everything the server sends until it closes (bounded by kWaitMs per read).
std::string read_to_end(const test::Socket& s) {
  std::string text;
  char buffer[4096];
  for (int reads = 0; reads < 1000 && test::readable(s, kWaitMs); ++reads) {
    const test::IoResult r = test::recv(s, buffer, sizeof buffer);
    if (r.error || r.bytes == 0) break;
    text.append(buffer, r.bytes);
  }
  return text;
}

std::string exchange(const MetricsServer& server, const std::string& request) {
  test::Socket s = connect_to(server);
  EXPECT_FALSE(test::send(s, request).error);
  return read_to_end(s);
}

std::string body_of(const std::string& response) {
  const std::size_t end = response.find("\r\n\r\n");
  return end == std::string::npos ? std::string() : response.substr(end + 4);
}

class MetricsServerTest : public ::testing::TestWithParam<bool> {
 protected:
  static void SetUpTestSuite() { test::start_sockets(); }
  void SetUp() override {
    if (GetParam() && !test::ipv6_loopback_available()) GTEST_SKIP() << "no IPv6 loopback";
  }
  std::string listen() const { return GetParam() ? "[::1]:0" : "127.0.0.1:0"; }

  static std::string text() { return "# TYPE sluice_test gauge\nsluice_test{app=\"C:\\\\x\"} 1\n"; }
};

TEST_P(MetricsServerTest, ServesMetricsWithTheExpositionContentType) {
  MetricsServer server(listen(), text);
  server.start();
  EXPECT_NE(server.address().port, 0) << "port 0 asks for a free port, and the bound one is reported";
  EXPECT_EQ(net::is_ipv4(server.address().ip), !GetParam());

  const std::string response = exchange(server, "GET /metrics HTTP/1.1\r\nHost: localhost\r\n\r\n");
  EXPECT_EQ(response.rfind("HTTP/1.1 200 OK\r\n", 0), 0u) << response;
  EXPECT_NE(response.find("\r\nContent-Type: text/plain; version=0.0.4; charset=utf-8\r\n"), std::string::npos);
  EXPECT_EQ(body_of(response), text());
  EXPECT_EQ(server.scrapes(), 1u);
  EXPECT_EQ(body_of(exchange(server, "GET /metrics HTTP/1.0\r\n\r\n")), text());
  EXPECT_EQ(server.scrapes(), 2u);
}

TEST_P(MetricsServerTest, OtherPathsAre404AndOtherMethods405) {
  MetricsServer server(listen(), text);
  server.start();
  EXPECT_EQ(exchange(server, "GET /other HTTP/1.1\r\n\r\n").rfind("HTTP/1.1 404 ", 0), 0u);
  EXPECT_EQ(exchange(server, "POST /metrics HTTP/1.1\r\nContent-Length: 0\r\n\r\n").rfind("HTTP/1.1 405 ", 0), 0u);
  EXPECT_EQ(server.scrapes(), 0u);
}

TEST_P(MetricsServerTest, AnIdleClientDoesNotHoldUpTheNext) {
  MetricsServerOptions options;
  options.deadline = 300ms;
  MetricsServer server(listen(), text, options);
  server.start();
  test::Socket idle = connect_to(server);
  test::Socket half = connect_to(server);
  ASSERT_FALSE(test::send(half, "GET /metr").error);  // and nothing more

  EXPECT_EQ(body_of(exchange(server, "GET /metrics HTTP/1.1\r\n\r\n")), text());
  // Past its deadline the idle client is dropped without an answer.
  EXPECT_EQ(read_to_end(idle), "");
  EXPECT_EQ(read_to_end(half), "");
}

TEST_P(MetricsServerTest, AtTheConnectionLimitOthersWaitUntilASlotFrees) {
  MetricsServerOptions options;
  options.max_connections = 1;
  options.deadline = 300ms;
  MetricsServer server(listen(), text, options);
  server.start();
  test::Socket idle = connect_to(server);
  // Waits in the backlog until the idle client's deadline frees the only slot.
  EXPECT_EQ(body_of(exchange(server, "GET /metrics HTTP/1.1\r\n\r\n")), text());
}

TEST_P(MetricsServerTest, StopReturnsWhileAClientIsConnected) {
  MetricsServerOptions options;
  options.deadline = 60s;  // the client would otherwise be kept for a minute
  auto server = std::make_unique<MetricsServer>(listen(), text, options);
  server->start();
  test::Socket client = connect_to(*server);
  ASSERT_FALSE(test::send(client, "GET /metrics HTTP/1.1\r\n").error);  // the head never ends
  auto stopped = std::async(std::launch::async, [&] { server->stop(); });
  ASSERT_EQ(stopped.wait_for(std::chrono::milliseconds(kWaitMs)), std::future_status::ready) << "stop() hangs";
  EXPECT_EQ(read_to_end(client), "") << "the connection is closed";
}

TEST_P(MetricsServerTest, ABusyPortIsAnErrorNamingTheAddress) {
  MetricsServer first(listen(), text);
  const std::string taken = net::format_endpoint(first.address());
  try {
    MetricsServer second(taken, text);
    FAIL() << "a second server bound " << taken;
  } catch (const std::system_error& e) {
    EXPECT_NE(std::string(e.what()).find(taken), std::string::npos) << e.what();
  }
}

TEST_P(MetricsServerTest, ServesTheServicesOwnStatistics) {
  const json stats = json::parse(R"({"relay_available": true,
    "totals": {"flows_active": 0, "bytes_up": 5, "bytes_down": 6, "dropped": 0, "rate_up": 0, "rate_down": 0},
    "engine": {"tcp_accepted": 1, "tcp_unexpected": 0, "tcp_connect_failures": 0, "udp_associations": 0,
               "udp_dropped": 0, "flows_active": 0},
    "apps": [{"app": "C:\\Program Files\\A \"b\".exe", "flows_active": 0, "flows_total": 1,
              "decided": {"direct": 0, "relay": 1, "block": 0}, "bytes_up": 5, "bytes_down": 6, "dropped": 0,
              "rate_up": 0, "rate_down": 0, "over_volume": false}]})");
  const json status = json::parse(R"({"version": "1.2.3", "platform": "test", "uptime_seconds": 9,
    "policy": {"generation": 2, "rules": 1, "quotas": 0}, "control": {"endpoint": "x", "requests": 4}})");
  protocol::Dispatcher dispatcher;
  dispatcher.add("stats.get", protocol::Access::read, [&](const json&, const protocol::Caller&) { return stats; });
  dispatcher.add("service.status", protocol::Access::read, [&](const json&, const protocol::Caller&) { return status; });
  MetricsServer server(listen(), metrics_text_source(dispatcher));
  server.start();
  const std::string body = body_of(exchange(server, "GET /metrics HTTP/1.1\r\n\r\n"));
  EXPECT_EQ(body, protocol::prometheus_text(stats, status));
  EXPECT_TRUE(test::exposition_problems(body).empty()) << body;

  protocol::Dispatcher broken;  // no methods at all
  MetricsServer failing(listen(), metrics_text_source(broken));
  failing.start();
  const std::string response = exchange(failing, "GET /metrics HTTP/1.1\r\n\r\n");
  EXPECT_EQ(response.rfind("HTTP/1.1 500 ", 0), 0u) << response;
  EXPECT_NE(response.find("stats.get"), std::string::npos) << response;
}

INSTANTIATE_TEST_SUITE_P(Loopback, MetricsServerTest, ::testing::Values(false, true),
                         [](const auto& info) { return info.param ? "IPv6" : "IPv4"; });

TEST(MetricsListenAddressTest, LoopbackAddressesAndPortsAreAccepted) {
  EXPECT_EQ(parse_listen_address("127.0.0.1:9464"), (net::Endpoint{*net::parse_ip("127.0.0.1"), 9464}));
  EXPECT_EQ(parse_listen_address("127.1.2.3:0").port, 0);
  EXPECT_EQ(parse_listen_address("[::1]:65535"), (net::Endpoint{*net::parse_ip("::1"), 65535}));
}

TEST(MetricsListenAddressTest, OtherAddressesAreRefusedNamingThem) {
  for (const char* text : {"0.0.0.0:9464", "[::]:9464", "192.0.2.1:9464", "[2001:db8::1]:9464", "[::ffff:10.0.0.1]:9464"}) {
    try {
      parse_listen_address(text);
      ADD_FAILURE() << text << " was accepted";
    } catch (const std::invalid_argument& e) {
      EXPECT_NE(std::string(e.what()).find(text), std::string::npos) << e.what();
      EXPECT_NE(std::string(e.what()).find("loopback"), std::string::npos) << e.what();
    }
  }
  for (const char* text : {"", "127.0.0.1", "127.0.0.1:", "localhost:9464", "::1:9464", "[127.0.0.1]:9464",
                           "127.0.0.1:65536", "127.0.0.1:-1", "127.0.0.1:94x4", "[::1:9464"}) {
    EXPECT_THROW(parse_listen_address(text), std::invalid_argument) << text;
  }
  EXPECT_THROW(MetricsServer("0.0.0.0:0", [] { return std::string(); }), std::invalid_argument);
}

}  // namespace
}  // namespace sluice::service::metrics
