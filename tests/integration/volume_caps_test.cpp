// Volume caps as enforcement holds them (issue 24), over the real control transport
// against the real service body and relay: a cap that blocks refuses new flows once
// reached and ends live ones at the cap, in both directions and both families; a cap
// lifted or raised lets the next flow through at once; policy.check, quota.status
// and stats say what enforcement does.

#include <gtest/gtest.h>

#include <thread>

#include "common/platform/platform.h"
#include "tests/integration/flow_service_fixture.h"
#include "tests/support/test_socket.h"

namespace sluice::service {
namespace {

using protocol::json;
using test::Endpoint;
using test::Socket;

class VolumeCapsTest : public FlowServiceTest {
 protected:
  void set_cap(std::uint64_t bytes) {
    client().call("quota.set", {{"app", platform::current_executable()},
                                {"volume", {{"bytes", bytes}, {"period", "day"}, {"on_exceed", "block"}}}});
  }
  json check(std::uint16_t port) {
    return client().call("policy.check", {{"app", platform::current_executable()}, {"destination", "127.0.0.1"},
                                          {"port", port}, {"protocol", "tcp"}});
  }
  json cap_status() {
    // Held in a local: a range-for over a member of a temporary would outlive it.
    const json caps = client().call("quota.status")["caps"];
    for (const json& cap : caps) {
      if (cap["app"] == platform::current_executable()) return cap;
    }
    return json::object();
  }

  // Reaches a 1000-byte cap with two 600-byte datagrams through a relayed UDP
  // association: the second passes, as the cap is not reached before it.
  void reach_cap_over_udp(std::uint16_t destination_port) {
    set_cap(1000);
    std::uint16_t app_port;
    udp_app_ = ipv4_socket(false, app_port, false);
    const json answer = register_flow("udp", "127.0.0.1", destination_port, "0.0.0.0", app_port);
    ASSERT_EQ(answer["verdict"], "relay");
    const Endpoint association{"127.0.0.1", answer["relay_port"].get<std::uint16_t>()};
    for (int i = 0; i < 2; ++i) test::send_to(udp_app_, std::string(600, 'v'), association);
    ASSERT_TRUE(eventually([&] { return cap_status().value("reached", false); })) << cap_status().dump();
  }
  json register_new_tcp(std::uint16_t destination_port) {
    std::uint16_t port;
    tcp_apps_.push_back(ipv4_socket(true, port, false));
    return register_tcp(destination_port, port);
  }

  Socket udp_app_;
  std::vector<Socket> tcp_apps_;
};

TEST_F(VolumeCapsTest, AReachedCapRefusesNewFlowsAndEveryViewSaysSo) {
  std::uint16_t destination_port;
  const Socket destination = ipv4_socket(false, destination_port, true);
  add_rule("relay", destination_port);
  ASSERT_NO_FATAL_FAILURE(reach_cap_over_udp(destination_port));

  const json refused = register_new_tcp(destination_port);
  EXPECT_EQ(refused["verdict"], "block");
  EXPECT_EQ(refused["reason"], "volume cap reached");
  const json checked = check(destination_port);
  EXPECT_EQ(checked["action"], "block") << checked.dump();
  EXPECT_EQ(checked["reason"], "volume cap reached");
  EXPECT_EQ(checked["cap"]["reached"], true);
  const json cap = cap_status();
  EXPECT_EQ(cap["used"], 1200) << "the datagram that reached the cap passed whole";
  EXPECT_EQ(cap["limit"], 1000);
  EXPECT_EQ(client().call("stats.get")["apps"][0]["over_volume"], true);
}

// What lifts or raises a reached cap, each applied by the next registration with
// no wait: the state is judged against the policy of that moment.
struct Lift {
  const char* name;
  json quota_set;  // quota.set's parameters besides "app"; null: quota.clear
  bool throttled = false;  // still over the cap, but it slows flows instead of refusing them
};

class VolumeCapLiftTest : public VolumeCapsTest, public ::testing::WithParamInterface<Lift> {};

TEST_P(VolumeCapLiftTest, LetsTheNextFlowThroughAtOnce) {
  std::uint16_t destination_port;
  const Socket destination = ipv4_socket(false, destination_port, true);
  add_rule("relay", destination_port);
  // A rate too, so that removing only the volume leaves a quota.
  client().call("quota.set", {{"app", platform::current_executable()}, {"rate", {{"down", "1GiB/s"}}}});
  ASSERT_NO_FATAL_FAILURE(reach_cap_over_udp(destination_port));
  ASSERT_EQ(register_new_tcp(destination_port)["verdict"], "block");

  json params = GetParam().quota_set;
  if (params.is_null()) {
    client().call("quota.clear", {{"app", platform::current_executable()}});
  } else {
    params["app"] = platform::current_executable();
    client().call("quota.set", params);
  }
  EXPECT_EQ(register_new_tcp(destination_port)["verdict"], "relay");
  EXPECT_EQ(check(destination_port)["action"], "relay");
  const bool throttled = GetParam().throttled;
  EXPECT_EQ(client().call("stats.get")["apps"][0]["over_volume"], throttled);
  const json cap = cap_status();
  EXPECT_EQ(cap.value("reached", false), throttled) << cap.dump();
  EXPECT_EQ(cap.value("enforced", json()), throttled ? json("throttle") : json()) << cap.dump();
}

INSTANTIATE_TEST_SUITE_P(
    Ways, VolumeCapLiftTest,
    ::testing::Values(Lift{"VolumeRemoved", json{{"volume", nullptr}}},
                      Lift{"Raised", json{{"volume", {{"bytes", 1'000'000}, {"period", "day"}, {"on_exceed", "block"}}}}},
                      Lift{"MadeThrottle",
                           json{{"volume", {{"bytes", 1000}, {"period", "day"}, {"on_exceed", "throttle"}, {"throttle_rate", "1MiB/s"}}}}, true},
                      Lift{"QuotaCleared", json()}),
    [](const auto& info) { return std::string(info.param.name); });

// A quota whose only limit was the volume is removed by removing the volume (not
// refused as "a quota that sets no limit"): `quota set --volume none` lifts a cap.
TEST_F(VolumeCapsTest, RemovingTheOnlyLimitRemovesTheQuota) {
  set_cap(1000);
  const json answer = client().call("quota.set", {{"app", platform::current_executable()}, {"volume", nullptr}});
  EXPECT_TRUE(answer["quota"].is_null()) << answer.dump();
  EXPECT_EQ(answer["cleared"], platform::current_executable());
  EXPECT_TRUE(client().call("quota.list")["quotas"].empty());
  EXPECT_THROW(client().call("quota.set", {{"app", "/usr/bin/none-yet"}, {"volume", nullptr}}), protocol::RpcError)
      << "but a new quota must set something";
}

// A flow that crosses the cap is ended at it: the relay reads no more than is left,
// delivers what it holds, then resets the connection, so one long download under a
// small cap is cut short. Both directions, both families.
class VolumeCapMidFlowTest : public VolumeCapsTest, public ::testing::WithParamInterface<std::tuple<bool, bool>> {
 protected:
  bool ipv6() const { return std::get<0>(GetParam()); }
  bool upload() const { return std::get<1>(GetParam()); }
};

TEST_P(VolumeCapMidFlowTest, ATcpFlowIsCutAtTheCap) {
  if (ipv6() && !test::ipv6_loopback_available()) GTEST_SKIP() << "no IPv6 loopback on this machine";
  constexpr std::uint64_t kCap = 300'000;
  set_cap(kCap);
  RelayedTcp tcp;
  ASSERT_NO_FATAL_FAILURE(connect_relayed_tcp(tcp, ipv6()));
  const Socket& sender = upload() ? tcp.app : tcp.server;
  const Socket& receiver = upload() ? tcp.server : tcp.app;

  // Ten times the cap: the sender is stopped by the reset, not by running out.
  std::thread sending([&] { test::send(sender, std::string(10 * kCap, 'm')); });
  std::uint64_t received = 0;
  std::error_code end;
  char buffer[65536];
  for (int i = 0; i < 10'000; ++i) {
    if (!test::readable(receiver, 10'000)) {
      end = std::make_error_code(std::errc::timed_out);
      break;
    }
    const test::IoResult r = test::recv(receiver, buffer, sizeof buffer);
    if (r.error || r.bytes == 0) {
      end = r.error;
      break;
    }
    received += r.bytes;
  }
  EXPECT_NE(end, std::make_error_code(std::errc::timed_out)) << "the flow was not ended at the cap";
  // What the relay still had in the kernel's send buffer when it reset may be lost,
  // so the receiver gets at most the cap; the relay's count is exact (below).
  EXPECT_GT(received, 0u);
  EXPECT_LE(received, kCap);
  // The rest may sit in the kernel's buffers, so the send can complete; the sender
  // learns of the reset when it next reads.
  sending.join();
  ASSERT_TRUE(test::readable(sender, 10'000));
  const test::IoResult after = test::recv(sender, buffer, sizeof buffer);
  EXPECT_TRUE(after.error || after.bytes == 0) << "the sender's side was not ended";

  json flow;
  EXPECT_TRUE(eventually([&] {
    const json flows = client().call("flows.list")["flows"];
    for (const json& f : flows) {
      if (f["id"] == tcp.flow_id) flow = f;
    }
    return flow.value("state", "") == "closed";
  })) << flow.dump();
  EXPECT_EQ(flow.value("error", ""), "volume cap reached") << flow.dump();
  EXPECT_EQ(flow[upload() ? "bytes_up" : "bytes_down"], kCap) << "the relay read exactly what the cap left";
  EXPECT_EQ(client().call("stats.get")["engine"]["volume_closed"], 1);
  EXPECT_EQ(cap_status()["reached"], true);
}

INSTANTIATE_TEST_SUITE_P(Directions, VolumeCapMidFlowTest, ::testing::Combine(::testing::Bool(), ::testing::Bool()),
                         [](const auto& info) {
                           return std::string(std::get<0>(info.param) ? "Ipv6" : "Ipv4") +
                                  (std::get<1>(info.param) ? "Upload" : "Download");
                         });

// A UDP association ends at the cap: the datagram that reaches it passes (a datagram
// is not cut), the next ones do not, and the association is closed.
TEST_F(VolumeCapsTest, AUdpAssociationEndsAtTheCap) {
  std::uint16_t destination_port, app_port;
  const Socket destination = ipv4_socket(false, destination_port, true);
  const Socket app = ipv4_socket(false, app_port, false);
  add_rule("relay", destination_port);
  set_cap(1000);
  const json answer = register_flow("udp", "127.0.0.1", destination_port, "0.0.0.0", app_port);
  ASSERT_EQ(answer["verdict"], "relay");
  const Endpoint association{"127.0.0.1", answer["relay_port"].get<std::uint16_t>()};
  for (int i = 0; i < 5; ++i) test::send_to(app, std::string(600, 'u'), association);

  int arrived = 0;
  char buffer[2048];
  Endpoint from;
  while (test::readable(destination, 1000)) {
    ASSERT_EQ(test::recv_from(destination, buffer, sizeof buffer, from).bytes, 600u);
    ++arrived;
  }
  EXPECT_EQ(arrived, 2) << "600 + 600 passes a 1000-byte cap by the one datagram that reached it";
  json flow;
  EXPECT_TRUE(eventually([&] {
    flow = client().call("flows.list")["flows"][0];
    return flow["state"] == "closed";
  })) << flow.dump();
  EXPECT_EQ(flow.value("error", ""), "volume cap reached");
}

// The global quota's cap counts every program's relayed bytes. Reached with block, it
// refuses every program's new flows and ends live ones; lifted, the next flow goes.
TEST_F(VolumeCapsTest, TheGlobalCapCountsEveryProgramAndStopsThemAll) {
  std::uint16_t destination_port;
  const Socket destination = ipv4_socket(false, destination_port, true);
  add_rule("relay", destination_port);
  client().call("quota.set", {{"global", true}, {"volume", {{"bytes", 1000}, {"period", "day"}, {"on_exceed", "block"}}}});

  std::uint16_t app_port;
  const Socket app = ipv4_socket(false, app_port, false);
  const json answer = register_flow("udp", "127.0.0.1", destination_port, "0.0.0.0", app_port);
  ASSERT_EQ(answer["verdict"], "relay");
  const Endpoint association{"127.0.0.1", answer["relay_port"].get<std::uint16_t>()};
  for (int i = 0; i < 5; ++i) test::send_to(app, std::string(600, 'g'), association);
  json global;
  ASSERT_TRUE(eventually([&] {
    const json caps = client().call("quota.status")["caps"];
    global = caps.empty() ? json::object() : caps[0];
    return global.value("reached", false);
  })) << global.dump();
  EXPECT_EQ(global["global"], true) << "the global cap is listed first, as such";
  EXPECT_EQ(global["used"], 1200);
  json flow;
  EXPECT_TRUE(eventually([&] {
    flow = client().call("flows.list")["flows"][0];
    return flow["state"] == "closed";
  })) << flow.dump();
  EXPECT_EQ(flow.value("error", ""), "volume cap reached") << "the live association was ended at the cap";

  const json refused = register_new_tcp(destination_port);
  EXPECT_EQ(refused["verdict"], "block");
  EXPECT_EQ(refused["reason"], "global volume cap reached");
  const json other = client().call("policy.check", {{"app", "/usr/bin/any-other-program"}, {"destination", "127.0.0.1"},
                                                    {"port", 80}, {"protocol", "tcp"}});
  EXPECT_EQ(other["action"], "block") << "every program is refused: " << other.dump();
  EXPECT_EQ(other["global_cap"]["reached"], true);

  client().call("quota.set", {{"global", true}, {"volume", {{"bytes", 1'000'000}, {"period", "day"}, {"on_exceed", "block"}}}});
  EXPECT_EQ(register_new_tcp(destination_port)["verdict"], "relay") << "raised: the next flow goes at once";
}

}  // namespace
}  // namespace sluice::service
