// The provider protocol and the data-plane views over the real control transport,
// against the real service body: flow.register decided by policy, relayed bytes
// counted per flow, per application and in the usage table. Volume caps have their
// own file, volume_caps_test.cpp.

#include <gtest/gtest.h>

#include <algorithm>
#include <thread>
#include <vector>

#include "common/platform/platform.h"
#include "control/protocol/frame.h"
#include "control/transport/rpc_client.h"
#include "service/relay/socket_owner.h"
#include "tests/integration/flow_service_fixture.h"
#include "tests/support/child_process.h"
#include "tests/support/socket_owner_skip.h"
#include "tests/support/test_socket.h"

namespace sluice::service {
namespace {

using namespace std::chrono_literals;
using protocol::json;

using test::Endpoint;
using test::Socket;

using FlowMethodsTest = FlowServiceTest;

TEST_F(FlowMethodsTest, VerdictsFollowThePolicyAndCarryTheProviderSettings) {
  add_rule("block", 25);
  json blocked = register_tcp(25, 40000);
  EXPECT_EQ(blocked["verdict"], "block");
  EXPECT_EQ(blocked["fail_mode"], "open");
  EXPECT_EQ(blocked["timeout_ms"], 250);
  EXPECT_FALSE(blocked.contains("flow_id"));

  client().call("settings.set", {{"key", "fail_mode"}, {"value", "closed"}});
  json direct = register_tcp(80, 40001);
  EXPECT_EQ(direct["verdict"], "direct");
  EXPECT_EQ(direct["reason"], "default action");
  EXPECT_EQ(direct["fail_mode"], "closed");

  json stats = client().call("stats.get");
  ASSERT_EQ(stats["apps"].size(), 1u);
  EXPECT_EQ(stats["apps"][0]["app"], platform::current_executable()) << "the caller is identified by the OS";
  EXPECT_EQ(stats["apps"][0]["decided"]["block"], 1);
  EXPECT_EQ(stats["apps"][0]["decided"]["direct"], 1);
}

TEST_F(FlowMethodsTest, RelayedTcpIsCarriedAndCounted) {
  RelayedTcp tcp;
  ASSERT_NO_FATAL_FAILURE(connect_relayed_tcp(tcp));
  const Socket& app = tcp.app;
  const Socket& server = tcp.server;

  const std::string payload(100'000, 'z');
  const test::IoResult sent = test::send(app, payload);
  ASSERT_FALSE(sent.error) << sent.error.message();
  ASSERT_EQ(sent.bytes, payload.size());
  std::size_t received = 0;
  char buffer[65536];
  while (received < payload.size()) {
    ASSERT_TRUE(test::readable(server, 5000));
    const test::IoResult r = test::recv(server, buffer, sizeof buffer);
    ASSERT_FALSE(r.error) << r.error.message();
    ASSERT_GT(r.bytes, 0u);
    received += r.bytes;
  }

  json flows;
  ASSERT_TRUE(eventually([&] {
    flows = client().call("flows.list")["flows"];
    return flows.size() == 1 && flows[0]["bytes_up"] == payload.size();
  })) << flows.dump();
  EXPECT_EQ(flows[0]["pid"], platform::current_pid());
  EXPECT_EQ(flows[0]["state"], "open");
  EXPECT_EQ(flows[0]["destination"], "127.0.0.1:" + std::to_string(tcp.destination_port));
  EXPECT_EQ(flows[0]["local"], "0.0.0.0:" + std::to_string(tcp.app_port));

  // The sampler moves what the engine counted into the ledger; usage.show flushes it.
  json usage;
  EXPECT_TRUE(eventually([&] {
    usage = client().call("usage.show", {{"app", platform::current_executable()}})["usage"];
    return usage.size() == 1 && usage[0]["bytes_up"] == payload.size();
  })) << usage.dump();
}

TEST_F(FlowMethodsTest, AFlushWritesWhatTheRelayCountedUpToThatMoment) {
  // A crash may lose at most one flush interval of counting: so each flush (here the
  // one usage.show makes) collects the relay's counts itself, rather than writing
  // what the once-a-second sampler last brought in.
  RelayedTcp tcp;
  ASSERT_NO_FATAL_FAILURE(connect_relayed_tcp(tcp));
  const test::IoResult sent = test::send(tcp.app, std::string(1000, 'u'));
  ASSERT_EQ(sent.bytes, 1000u);
  ASSERT_TRUE(eventually([&] { return client().call("flows.list")["flows"][0]["bytes_up"] == 1000; }));

  json usage = client().call("usage.show", {{"app", platform::current_executable()}})["usage"];
  ASSERT_EQ(usage.size(), 1u) << usage.dump();
  EXPECT_EQ(usage[0]["bytes_up"], 1000);
}

TEST_F(FlowMethodsTest, ReleaseEndsAnAssociation) {
  std::uint16_t destination_port, app_port;
  const Socket destination = ipv4_socket(false, destination_port, true);
  const Socket app = ipv4_socket(false, app_port, false);
  add_rule("relay", destination_port);
  json answer = client().call("flow.register", {{"protocol", "udp"}, {"destination", "127.0.0.1"}, {"port", destination_port},
                                                {"local", "0.0.0.0"}, {"local_port", app_port}});
  ASSERT_EQ(answer["verdict"], "relay");
  client().call("flow.release", {{"flow_id", answer["flow_id"]}});
  EXPECT_TRUE(eventually([&] { return client().call("flows.list")["flows"][0]["state"] == "closed"; }));
}

// More flows than one frame holds: flows.list answers them a page at a time, every
// flow once, in id order; filters and limits apply before the page is cut.
TEST_F(FlowMethodsTest, FlowsListPagesThroughMoreFlowsThanOneFrameHolds) {
  add_rule("relay", 9);
  transport::RpcClient rpc(config_.control_endpoint, 10s, "test");
  constexpr int kFlows = 4000;
  std::vector<Socket> sockets;  // a relayed flow's local address must be a socket of ours
  for (int i = 0; i < kFlows; ++i) {
    std::uint16_t local_port;
    sockets.push_back(ipv4_socket(true, local_port, false));
    ASSERT_EQ(rpc.call("flow.register", {{"protocol", "tcp"}, {"destination", "127.0.0.1"}, {"port", 9}, {"local", "0.0.0.0"},
                                         {"local_port", local_port}})["verdict"],
              "relay");
  }

  std::vector<std::uint64_t> ids;
  std::size_t pages = 0, listed_bytes = 0;
  json params{{"after", 0}};
  for (;;) {
    const json page = rpc.call("flows.list", params);
    ++pages;
    for (const auto& f : page["flows"]) {
      ids.push_back(f["id"].get<std::uint64_t>());
      listed_bytes += f.dump().size();
    }
    if (!page["more"].get<bool>()) break;
    ASSERT_FALSE(page["flows"].empty());
    ASSERT_EQ(page["next_after"], ids.back());
    params["after"] = page["next_after"];
    ASSERT_LT(pages, 100u) << "paging does not end";
  }
  EXPECT_GT(listed_bytes, protocol::kMaxFrameBytes) << "the flows must not fit one frame, or this proves nothing";
  EXPECT_GT(pages, 1u);
  ASSERT_EQ(ids.size(), static_cast<std::size_t>(kFlows));
  EXPECT_TRUE(std::is_sorted(ids.begin(), ids.end()));
  EXPECT_EQ(std::adjacent_find(ids.begin(), ids.end()), ids.end()) << "a flow listed twice";

  const json limited = rpc.call("flows.list", {{"limit", 10}, {"after", ids[4]}});
  ASSERT_EQ(limited["flows"].size(), 10u);
  EXPECT_EQ(limited["flows"][0]["id"], ids[5]);
  EXPECT_TRUE(limited["more"].get<bool>());
  EXPECT_EQ(limited["next_after"], ids[14]);
  EXPECT_EQ(rpc.call("flows.list", {{"active", true}, {"limit", 1}})["flows"].size(), 1u) << "pending flows are active";
  const json other = rpc.call("flows.list", {{"app", "/no/such/program"}});
  EXPECT_TRUE(other["flows"].empty());
  EXPECT_FALSE(other["more"].get<bool>());
  try {
    rpc.call("flows.list", {{"limit", 0}});
    ADD_FAILURE() << "limit 0 accepted";
  } catch (const protocol::RpcError& e) {
    EXPECT_EQ(e.code(), protocol::kInvalidParams);
  }
}

// The port-squatting attack (issue 17): a caller claims a local address that is not
// a socket of its own, so that the relay would hand it the connection of whichever
// program later connects from there. Each claim is refused, saying what could not
// be verified, and no flow is created; the caller's own sockets still register.
TEST_F(FlowMethodsTest, ARelayedFlowsLocalAddressMustBeASocketOfTheCaller) {
  SLUICE_SKIP_UNLESS_SYSTEM_REPORTS_SOCKET_OWNERS();
  std::uint16_t destination_port;
  const Socket destination = ipv4_socket(true, destination_port, true);
  add_rule("relay", destination_port);
  auto refused = [&](const std::string& protocol, const std::string& local, std::uint16_t port, const std::string& why) {
    try {
      const json answer = client().call("flow.register", {{"protocol", protocol}, {"destination", "127.0.0.1"},
                                                          {"port", destination_port}, {"local", local}, {"local_port", port}});
      ADD_FAILURE() << protocol << " " << local << ":" << port << " accepted: " << answer.dump();
    } catch (const protocol::RpcError& e) {
      EXPECT_EQ(e.code(), protocol::kPermissionDenied) << e.what();
      EXPECT_NE(std::string(e.what()).find(why), std::string::npos) << e.what();
    }
  };

  // Another process's socket (a real one: python3 holding a bound TCP and UDP socket).
  test::ChildProcess other("/usr/bin/python3", {"-c",
                                       "import socket, time\n"
                                       "t = socket.socket(); t.bind(('0.0.0.0', 0))\n"
                                       "u = socket.socket(type=socket.SOCK_DGRAM); u.bind(('0.0.0.0', 0))\n"
                                       "print(t.getsockname()[1], u.getsockname()[1], flush=True)\n"
                                       "time.sleep(60)\n"});
  const auto ports = other.read_line(5000);
  ASSERT_TRUE(ports);
  const auto space = ports->find(' ');
  const auto others_tcp = static_cast<std::uint16_t>(std::stoi(ports->substr(0, space)));
  const auto others_udp = static_cast<std::uint16_t>(std::stoi(ports->substr(space + 1)));
  refused("tcp", "0.0.0.0", others_tcp, "is not the calling program's");
  refused("udp", "0.0.0.0", others_udp, "is not the calling program's");

  // A port nobody holds, as a squatter claims every ephemeral port.
  std::uint16_t free_port;
  { const Socket gone = ipv4_socket(true, free_port, false); }
  refused("tcp", "0.0.0.0", free_port, "no tcp 0.0.0.0:" + std::to_string(free_port) + " socket exists");

  // Our own socket, but claimed wider than it is bound, or in the other family.
  std::uint16_t loopback_port, wildcard_port;
  const Socket on_loopback = ipv4_socket(true, loopback_port, true);
  const Socket on_wildcard = ipv4_socket(true, wildcard_port, false);
  refused("tcp", "0.0.0.0", loopback_port, "is bound to 127.0.0.1:" + std::to_string(loopback_port));
  refused("tcp", "::", wildcard_port, "socket exists");

  EXPECT_TRUE(client().call("flows.list")["flows"].empty()) << "a refused claim left a flow";
  EXPECT_EQ(register_tcp(destination_port, wildcard_port)["verdict"], "relay") << "our own socket is refused";
  const json exact = client().call("flow.register", {{"protocol", "tcp"}, {"destination", "127.0.0.1"}, {"port", destination_port},
                                                     {"local", "127.0.0.1"}, {"local_port", loopback_port}});
  EXPECT_EQ(exact["verdict"], "relay");
}

// The same over IPv6: an IPv6 socket's own address registers, the IPv4 wildcard of
// its port does not.
TEST_F(FlowMethodsTest, AnIpv6SocketRegistersInItsOwnFamilyOnly) {
  SLUICE_SKIP_UNLESS_SYSTEM_REPORTS_SOCKET_OWNERS();
  std::uint16_t destination_port;
  const Socket destination = ipv4_socket(true, destination_port, true);
  add_rule("relay", destination_port);
  Socket app = test::tcp_socket(true);
  ASSERT_FALSE(test::bind(app, Endpoint{"::", 0}));
  const std::uint16_t port = test::local_endpoint(app).port;
  auto attempt = [&](const std::string& local) {
    return client().call("flow.register", {{"protocol", "tcp"}, {"destination", "127.0.0.1"}, {"port", destination_port},
                                           {"local", local}, {"local_port", port}});
  };
  EXPECT_THROW(attempt("0.0.0.0"), protocol::RpcError);
  EXPECT_EQ(attempt("::")["verdict"], "relay");
}

// Per-user limits (issue 17): past each, a registration is refused with an error
// naming the limit's sluiced.conf key, counted in service.status. The test process
// runs as root, so administrators are made subject to the limits here.

TEST_F(FlowMethodsTest, PerUserLimitsRefuseNamingTheLimit) {
  service.stop();
  config_.flow_limits.pending_per_user = 3;
  config_.flow_limits.udp_per_user = 2;
  config_.flow_limits.administrators_exempt = false;
  test::RunningService limited(config_);

  std::uint16_t destination_port;
  const Socket destination = ipv4_socket(true, destination_port, true);
  add_rule("relay", destination_port);
  std::vector<Socket> sockets;
  auto attempt = [&](bool stream) {
    std::uint16_t port;
    sockets.push_back(ipv4_socket(stream, port, false));
    return client().call("flow.register", {{"protocol", stream ? "tcp" : "udp"}, {"destination", "127.0.0.1"},
                                           {"port", destination_port}, {"local", "0.0.0.0"}, {"local_port", port}});
  };
  auto refused_by = [&](bool stream, const std::string& key) {
    try {
      attempt(stream);
      ADD_FAILURE() << "accepted past " << key;
    } catch (const protocol::RpcError& e) {
      EXPECT_EQ(e.code(), protocol::kServerBusy);
      EXPECT_NE(std::string(e.what()).find(key), std::string::npos) << e.what();
      EXPECT_EQ(e.data()["limit"], key);
    }
  };
  for (int i = 0; i < 3; ++i) EXPECT_EQ(attempt(true)["verdict"], "relay");
  refused_by(true, "max-pending-flows-per-user");
  for (int i = 0; i < 2; ++i) EXPECT_EQ(attempt(false)["verdict"], "relay");
  refused_by(false, "max-udp-associations-per-user");

  const json status = client().call("service.status");
  const json& limits = status["flow_limits"];
  EXPECT_EQ(limits["max-pending-flows-per-user"], 3);
  EXPECT_EQ(limits["max-udp-associations-per-user"], 2);
  EXPECT_EQ(limits["refused"]["max-pending-flows-per-user"], 1);
  EXPECT_EQ(limits["refused"]["max-udp-associations-per-user"], 1);
  EXPECT_GT(limits["descriptors_free"].get<std::int64_t>(), 0);
}

// The limits count what each user holds as flows change state, not by walking the
// flows: a count that leaked on connect, close, release or expiry would refuse the
// user below the limit (or let them past it) from then on. So each limit is reached
// exactly, freed, and reached exactly again.
TEST_F(FlowMethodsTest, PerUserLimitsAreReachedExactlyAgainAfterFlowsEnd) {
  service.stop();
  config_.flow_limits.pending_per_user = 2;
  config_.flow_limits.relayed_per_user = 3;
  config_.flow_limits.administrators_exempt = false;
  test::RunningService limited(config_);

  std::uint16_t destination_port;
  const Socket destination = ipv4_socket(true, destination_port, true);
  add_rule("relay", destination_port);
  std::vector<Socket> sockets;
  auto pending = [&] {
    std::uint16_t port;
    sockets.push_back(ipv4_socket(true, port, false));
    return register_tcp(destination_port, port);
  };
  auto refused_by = [&](const std::string& key) {
    try {
      pending();
      ADD_FAILURE() << "accepted past " << key;
    } catch (const protocol::RpcError& e) {
      EXPECT_EQ(e.data()["limit"], key) << e.what();
    }
  };
  auto state_of = [&](std::uint64_t id) {
    const json answer = client().call("flows.list");
    for (const json& f : answer["flows"]) {
      if (f["id"] == id) return f["state"].get<std::string>();
    }
    return std::string("gone");
  };

  // Two connected flows: pending no more, relayed still.
  RelayedTcp first, second;
  ASSERT_NO_FATAL_FAILURE(connect_relayed_tcp(first));
  ASSERT_NO_FATAL_FAILURE(connect_relayed_tcp(second));
  const json listed = client().call("flows.list")["flows"];
  ASSERT_EQ(listed.size(), 2u);
  for (const json& f : listed) EXPECT_TRUE(eventually([&] { return state_of(f["id"].get<std::uint64_t>()) == "open"; }));
  const std::uint64_t first_id = listed[0]["id"].get<std::uint64_t>();
  const json p1 = pending();
  ASSERT_EQ(p1["verdict"], "relay") << "the connected flows still count as pending";
  refused_by("max-relayed-flows-per-user");

  // A relayed flow ends: exactly one more fits, which reaches the pending limit.
  first.app = Socket();
  first.server = Socket();
  ASSERT_TRUE(eventually([&] { const std::string s = state_of(first_id); return s == "closed" || s == "failed"; }));
  EXPECT_EQ(pending()["verdict"], "relay") << "the closed flow still counts as relayed";
  refused_by("max-pending-flows-per-user");

  // A pending one is released: exactly one more fits again.
  client().call("flow.release", {{"flow_id", p1["flow_id"]}});
  ASSERT_TRUE(eventually([&] { return state_of(p1["flow_id"].get<std::uint64_t>()) == "closed"; }));
  EXPECT_EQ(pending()["verdict"], "relay") << "the released flow still counts as pending";
  refused_by("max-pending-flows-per-user");

  const json status = client().call("service.status");
  EXPECT_EQ(status["flow_limits"]["refused"]["max-pending-flows-per-user"], 2);
  EXPECT_EQ(status["flow_limits"]["refused"]["max-relayed-flows-per-user"], 1);
}

TEST_F(FlowMethodsTest, BadRegistrationsNameTheField) {
  for (const auto& [params, field] : std::vector<std::pair<json, std::string>>{
           {{{"protocol", "sctp"}, {"destination", "127.0.0.1"}, {"port", 1}, {"local", "0.0.0.0"}, {"local_port", 0}}, "protocol"},
           {{{"protocol", "tcp"}, {"destination", "localhost"}, {"port", 1}, {"local", "0.0.0.0"}, {"local_port", 0}}, "destination"},
           {{{"protocol", "tcp"}, {"destination", "127.0.0.1"}, {"port", 0}, {"local", "0.0.0.0"}, {"local_port", 0}}, "port"},
           {{{"protocol", "udp"}, {"destination", "::1"}, {"port", 53}, {"local", "::"}, {"local_port", 70000}}, "local_port"}}) {
    try {
      client().call("flow.register", params);
      ADD_FAILURE() << "accepted " << params.dump();
    } catch (const protocol::RpcError& e) {
      EXPECT_EQ(e.code(), protocol::kInvalidParams);
      EXPECT_NE(std::string(e.what()).find(field), std::string::npos) << e.what();
    }
  }
}

}  // namespace
}  // namespace sluice::service
