#pragma once

// A real service body on a private state directory and control endpoint, with the
// plumbing the flow tests share: relay rules for this test program, registrations
// as a provider makes them, and an application socket connected through the relay.

#include <gtest/gtest.h>

#include <chrono>
#include <string>
#include <thread>

#include "common/platform/platform.h"
#include "control/protocol/frame.h"
#include "control/transport/rpc_client.h"
#include "tests/support/running_service.h"
#include "tests/support/temp_dir.h"
#include "tests/support/test_socket.h"

namespace sluice::service {

inline test::Socket bound_socket(bool stream, bool ipv6, std::uint16_t& port, bool loopback) {
  test::Socket socket = stream ? test::tcp_socket(ipv6) : test::udp_socket(ipv6);
  const char* ip = ipv6 ? (loopback ? "::1" : "::") : (loopback ? "127.0.0.1" : "0.0.0.0");
  EXPECT_FALSE(test::bind(socket, test::Endpoint{ip, 0}));
  port = test::local_endpoint(socket).port;
  return socket;
}
inline test::Socket ipv4_socket(bool stream, std::uint16_t& port, bool loopback) {
  return bound_socket(stream, false, port, loopback);
}

class FlowServiceTest : public ::testing::Test {
 protected:
  using json = protocol::json;

  FlowServiceTest()
      : config_{dir.file("state"), test::unique_endpoint(dir), spdlog::level::warn}, service(config_) {}

  transport::RpcClient client() { return transport::RpcClient(config_.control_endpoint, std::chrono::seconds(10), "test"); }

  void add_rule(const std::string& action, std::uint16_t port, const std::string& destinations = "127.0.0.0/8") {
    client().call("rule.add", {{"rule",
                                {{"app", platform::current_executable()},
                                 {"action", action},
                                 {"destinations", {destinations}},
                                 {"ports", {std::to_string(port)}}}}});
  }

  json register_flow(const std::string& protocol, const std::string& destination, std::uint16_t port,
                     const std::string& local, std::uint16_t local_port) {
    return client().call("flow.register", {{"protocol", protocol},
                                            {"destination", destination},
                                            {"port", port},
                                            {"local", local},
                                            {"local_port", local_port}});
  }
  json register_tcp(std::uint16_t port, std::uint16_t local_port) {
    return register_flow("tcp", "127.0.0.1", port, "0.0.0.0", local_port);
  }

  // An application socket connected through the relay to `server`, under a relay
  // rule for the destination's port, over IPv4 or IPv6 loopback.
  struct RelayedTcp {
    std::uint16_t destination_port = 0, app_port = 0;
    test::Socket listener, app, server;
    std::uint64_t flow_id = 0;
  };
  void connect_relayed_tcp(RelayedTcp& tcp, bool ipv6 = false) {
    tcp.listener = bound_socket(true, ipv6, tcp.destination_port, true);
    ASSERT_FALSE(test::listen(tcp.listener, 4));
    tcp.app = bound_socket(true, ipv6, tcp.app_port, false);
    add_rule("relay", tcp.destination_port, ipv6 ? "::1/128" : "127.0.0.0/8");
    const json answer = register_flow("tcp", ipv6 ? "::1" : "127.0.0.1", tcp.destination_port, ipv6 ? "::" : "0.0.0.0", tcp.app_port);
    ASSERT_EQ(answer["verdict"], "relay") << answer.dump();
    tcp.flow_id = answer["flow_id"].get<std::uint64_t>();
    ASSERT_FALSE(test::connect(tcp.app, test::Endpoint{answer["relay"].get<std::string>(), answer["relay_port"].get<std::uint16_t>()}));
    ASSERT_TRUE(test::readable(tcp.listener, 5000));
    tcp.server = test::accept(tcp.listener);
  }

  // Polls `predicate` for up to 5 s: the sampler and the relay run on their own threads.
  template <class Predicate>
  static bool eventually(Predicate predicate) {
    for (int i = 0; i < 500; ++i) {
      if (predicate()) return true;
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    return predicate();
  }

  test::TempDir dir;
  ServiceConfig config_;
  test::RunningService service;
};

}  // namespace sluice::service
