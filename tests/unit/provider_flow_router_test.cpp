// provider/core/flow_router: how both providers decide a flow, against a
// registration client the test answers for.

#include "provider/core/flow_router.h"

#include <gtest/gtest.h>

#include <vector>

namespace sluice::provider {
namespace {

using namespace std::chrono_literals;

class ScriptedClient final : public RegistrationClient {
 public:
  std::optional<RegisterAnswer> register_flow(const RegisterRequest& request, std::chrono::milliseconds timeout) override {
    requests.push_back(request);
    timeouts.push_back(timeout);
    return answer;
  }
  void release(std::uint64_t flow_id) override { released.push_back(flow_id); }
  std::int64_t current_service() override { return 0; }

  std::optional<RegisterAnswer> answer;
  std::vector<RegisterRequest> requests;
  std::vector<std::chrono::milliseconds> timeouts;
  std::vector<std::uint64_t> released;
};

net::Endpoint address(const char* ip, std::uint16_t port) { return *net::parse_endpoint(ip, port); }

TEST(FlowRouter, TheServicesAnswerIsAskedWithTheBoundAddressAndKept) {
  ScriptedClient client;
  client.answer = RegisterAnswer{Verdict::block};
  FlowRouter router(client, FailMode::open, 250ms);
  SocketState state(AF_INET, true, false);
  const Route route = router.decide(state, address("192.0.2.1", 80), address("0.0.0.0", 40000));
  EXPECT_EQ(route.kind, RouteKind::block);
  ASSERT_EQ(client.requests.size(), 1u);
  EXPECT_EQ(client.requests[0].destination, "192.0.2.1");
  EXPECT_EQ(client.requests[0].local_port, 40000);
  EXPECT_FALSE(client.requests[0].udp);
  auto cached = FlowRouter::cached(state, address("192.0.2.1", 80));
  ASSERT_TRUE(cached);
  EXPECT_EQ(cached->kind, RouteKind::block);
}

TEST(FlowRouter, SilenceOrAnUnboundSocketFallsBackToTheFailMode) {
  ScriptedClient client;  // never answers
  FlowRouter router(client, FailMode::closed, 250ms);
  SocketState state(AF_INET, true, true);
  EXPECT_EQ(router.decide(state, address("192.0.2.1", 53), address("0.0.0.0", 40000)).kind, RouteKind::block);
  SocketState unbound(AF_INET, true, true);
  EXPECT_EQ(router.decide(unbound, address("192.0.2.2", 53), std::nullopt).kind, RouteKind::block);
  EXPECT_EQ(client.requests.size(), 1u) << "an unbound socket is not registered";
  // A fail-mode verdict is a stand-in: it carries the time the service is asked again.
  EXPECT_TRUE(FlowRouter::cached(state, address("192.0.2.1", 53))->retry_after);
}

TEST(FlowRouter, TheFailModeAndTimeoutTheServiceNamedWin) {
  ScriptedClient client;
  RegisterAnswer direct{Verdict::direct};
  direct.fail_mode = FailMode::closed;
  direct.timeout_ms = 900;
  client.answer = direct;
  FlowRouter router(client, FailMode::open, 250ms);
  SocketState state(AF_INET, true, false);
  router.decide(state, address("192.0.2.1", 80), address("0.0.0.0", 40000));
  client.answer.reset();
  EXPECT_EQ(router.decide(state, address("192.0.2.9", 80), address("0.0.0.0", 40000)).kind, RouteKind::block);
  EXPECT_EQ(client.timeouts.back(), 900ms);
}

TEST(FlowRouter, ARelayThatLostTheRaceIsReleased) {
  ScriptedClient client;
  RegisterAnswer relay{Verdict::relay, 7, "127.0.0.1", 39001};
  client.answer = relay;
  FlowRouter router(client, FailMode::open, 250ms);
  SocketState state(AF_INET, true, true);
  EXPECT_EQ(router.decide(state, address("192.0.2.1", 53), address("0.0.0.0", 40000)).flow_id, 7u);
  // Another thread registered the same destination meanwhile: the second flow goes.
  client.answer->flow_id = 8;
  EXPECT_EQ(router.decide(state, address("192.0.2.1", 53), address("0.0.0.0", 40000)).flow_id, 7u);
  EXPECT_EQ(client.released, std::vector<std::uint64_t>{8});
}

TEST(FlowRouter, ARelayKeepsTheServiceThatSetItUpAndCanBeForgottenWithoutARelease) {
  ScriptedClient client;
  RegisterAnswer relay{Verdict::relay, 7, "127.0.0.1", 39001};
  relay.service_instance = 4242;
  client.answer = relay;
  FlowRouter router(client, FailMode::open, 250ms);
  SocketState state(AF_INET, true, true);
  const Route route = router.decide(state, address("192.0.2.1", 53), address("0.0.0.0", 40000));
  EXPECT_EQ(route.service_instance, 4242);

  Route other = route;
  other.service_instance = 4243;  // a route some other service set up: not this one
  state.forget(other);
  EXPECT_TRUE(FlowRouter::cached(state, address("192.0.2.1", 53)));
  state.forget(route);
  EXPECT_FALSE(FlowRouter::cached(state, address("192.0.2.1", 53))) << "asked anew next time";
  EXPECT_FALSE(state.has_relay_routes());
  EXPECT_TRUE(client.released.empty()) << "its service is gone: nobody to tell";
}

}  // namespace
}  // namespace sluice::provider
