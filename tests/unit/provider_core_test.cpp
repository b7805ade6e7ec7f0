// The provider contract (provider/core): what both providers do with a connect or a
// datagram, against fake system calls (system_calls.h) and a fake service behind a
// fake channel (service_channel.h), through the real registration client. Built in
// both CTest trees, so the LSP's build of the core (windows-cross, under Wine) is
// held to the same contract as the preload provider's; each provider's tests then
// show its own glue (preload_test, lsp_spi_test).

#include <gtest/gtest.h>

#include <functional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "control/protocol/frame.h"
#include "provider/core/service_client.h"
#include "provider/core/steering.h"

namespace sluice::provider {
namespace {

using namespace std::chrono_literals;
using json = nlohmann::json;
using Clock = std::chrono::steady_clock;
using Action = Steered::Action;

// The program's error code, which the system calls and the channel below clobber.
class FakeErrors final : public ErrorCode {
 public:
  int get() const override { return code; }
  void set(int value) override { code = value; }
  int code = 0;
};

// One socket's bind and getsockname: unbound (port 0) until bound.
class FakeSocketCalls final : public SocketCalls {
 public:
  FakeSocketCalls(FakeErrors& errors, int family) : errors_(errors), family_(family) {}
  int get_local_address(sockaddr_storage& address, int& length) override {
    errors_.code = 11;  // as a system call may
    ++lookups;
    net::Endpoint local = *net::parse_endpoint(family_ == AF_INET ? "0.0.0.0" : "::", bound ? 40000 : 0);
    length = static_cast<int>(net::to_sockaddr(local, family_, address));
    return 0;
  }
  int bind(const sockaddr* address, int length) override {
    errors_.code = 12;
    binds.push_back(*net::from_sockaddr(address, static_cast<socklen_t>(length)));
    if (refuse_bind) return -1;
    bound = true;
    return 0;
  }
  bool bound = false;
  bool refuse_bind = false;
  int lookups = 0;
  std::vector<net::Endpoint> binds;

 private:
  FakeErrors& errors_;
  const int family_;
};

// sluiced's side of the protocol, behind a channel that hands it each frame at once.
class FakeService final : public ServiceChannel {
 public:
  explicit FakeService(FakeErrors& errors) : errors_(errors) {}

  // The result object for a registration's params; null: no answer (silence).
  std::function<json(const json&)> decide = [](const json&) { return json{{"verdict", "direct"}}; };
  std::vector<json> registrations;
  std::vector<std::uint64_t> releases;
  std::vector<Clock::time_point> deadlines;  // of each connect
  int connections = 0;
  bool listening = true;
  std::int64_t instance = 100;

  // The service hangs up on its client, as an idle timeout does, and goes on.
  void drop_client() { hung_ = true; }
  // The service process ends and another one starts in its place.
  void restart() {
    hung_ = true;
    ++instance;
  }
  void stop() {
    hung_ = true;
    listening = false;
  }

  bool is_open() override { return open_; }
  bool connect(Clock::time_point deadline, bool* absent) override {
    deadlines.push_back(deadline);
    errors_.code = 21;
    if (open_) return true;
    if (!listening) {
      if (absent) *absent = true;
      return false;
    }
    open_ = true;
    hung_ = false;
    inbound_.clear();
    connection_instance_ = instance;
    ++connections;
    return true;
  }
  bool send(const std::string& bytes, Clock::time_point) override {
    errors_.code = 22;
    if (hung_) return false;
    protocol::FrameDecoder decoder;
    decoder.feed(bytes.data(), bytes.size());
    std::string payload;
    while (decoder.next(payload)) {
      const json message = json::parse(payload);
      if (message["method"] == "flow.release") {
        releases.push_back(message["params"]["flow_id"].get<std::uint64_t>());
        continue;
      }
      registrations.push_back(message["params"]);
      const json result = decide(message["params"]);
      if (result.is_null()) continue;
      inbound_ += protocol::encode_frame(json{{"jsonrpc", "2.0"}, {"id", message["id"]}, {"result", result}}.dump());
    }
    return true;
  }
  bool receive(char* buffer, std::size_t size, std::size_t* received, Clock::time_point) override {
    if (inbound_.empty()) return false;  // nothing comes before the deadline, or the service hung up
    *received = std::min(size, inbound_.size());
    inbound_.copy(buffer, *received);
    inbound_.erase(0, *received);
    return true;
  }
  void disconnect() override { open_ = false; }
  bool hung_up() override { return hung_; }
  std::int64_t service_instance() override { return connection_instance_; }

 private:
  FakeErrors& errors_;
  bool open_ = false;
  bool hung_ = false;
  std::string inbound_;
  std::int64_t connection_instance_ = 0;
};

json relay_to(std::uint64_t flow_id, std::uint16_t port) {
  return json{{"verdict", "relay"}, {"flow_id", flow_id}, {"relay", "127.0.0.1"}, {"relay_port", port}};
}

// One provider: the client over the fake service, the steering core over the client.
// The service check is not held back (interval 0): the fake restarts at once.
struct Provider {
  explicit Provider(FailMode mode = FailMode::open, std::chrono::milliseconds timeout = 250ms)
      : service(errors), client(service, errors, 0ms), steering(client, errors, mode, timeout) {}
  FakeErrors errors;
  FakeService service;
  ServiceClient client;
  Steering steering;
};

net::Endpoint address(const char* ip, std::uint16_t port) { return *net::parse_endpoint(ip, port); }

class ProviderCore : public ::testing::TestWithParam<bool> {
 protected:
  int family() const { return GetParam() ? AF_INET6 : AF_INET; }
  // A destination of the socket's family (the relay stays 127.0.0.1, reached v4-mapped on IPv6).
  net::Endpoint destination(std::uint16_t port = 80) const {
    return address(GetParam() ? "2001:db8::1" : "192.0.2.1", port);
  }
};

TEST_P(ProviderCore, AnUnboundSocketIsBoundToTheWildcardThenRegisteredWithItsPort) {
  Provider p;
  FakeSocketCalls calls(p.errors, family());
  SocketState state(family(), true, false);
  EXPECT_EQ(p.steering.steer(state, destination(), true, calls).action, Action::unchanged);
  ASSERT_EQ(calls.binds.size(), 1u);
  EXPECT_TRUE(net::is_unspecified(calls.binds[0].ip));
  EXPECT_EQ(net::is_ipv4(calls.binds[0].ip), family() == AF_INET) << "the wildcard of the socket's own family";
  EXPECT_EQ(calls.binds[0].port, 0) << "a port of the system's choosing";
  ASSERT_EQ(p.service.registrations.size(), 1u);
  EXPECT_EQ(p.service.registrations[0]["local_port"], 40000);
  EXPECT_EQ(p.service.registrations[0]["protocol"], "tcp");
  EXPECT_EQ(p.service.registrations[0]["port"], 80);
}

TEST_P(ProviderCore, ABoundSocketIsNotBoundAgain) {
  Provider p;
  FakeSocketCalls calls(p.errors, family());
  calls.bound = true;
  SocketState state(family(), true, true);
  p.steering.steer(state, destination(53), false, calls);
  EXPECT_TRUE(calls.binds.empty());
  ASSERT_EQ(p.service.registrations.size(), 1u);
  EXPECT_EQ(p.service.registrations[0]["protocol"], "udp");
}

TEST_P(ProviderCore, ASocketThatCannotBeBoundIsNotRegisteredAndTheFailModeDecides) {
  Provider p(FailMode::closed);
  FakeSocketCalls calls(p.errors, family());
  calls.refuse_bind = true;
  SocketState state(family(), true, false);
  const Steered steered = p.steering.steer(state, destination(), true, calls);
  EXPECT_EQ(steered.action, Action::refused);
  EXPECT_EQ(steered.refusal, Refusal::refused_tcp);
  EXPECT_TRUE(p.service.registrations.empty());
}

TEST_P(ProviderCore, ACachedVerdictIsUsedWithoutAskingOrLookingAtTheSocket) {
  Provider p;
  FakeSocketCalls calls(p.errors, family());
  SocketState state(family(), true, true);
  p.steering.steer(state, destination(53), false, calls);
  const int lookups = calls.lookups;
  EXPECT_EQ(p.steering.steer(state, destination(53), false, calls).action, Action::unchanged);
  EXPECT_EQ(p.service.registrations.size(), 1u);
  EXPECT_EQ(calls.lookups, lookups);
  // Another destination of the same UDP socket is a flow of its own.
  p.steering.steer(state, destination(54), false, calls);
  EXPECT_EQ(p.service.registrations.size(), 2u);
}

TEST_P(ProviderCore, TheProgramsErrorCodeIsLeftAsItWas) {
  Provider p;
  p.service.decide = [](const json&) { return relay_to(7, 39001); };
  FakeSocketCalls calls(p.errors, family());
  SocketState state(family(), true, true);
  p.errors.code = 4242;
  EXPECT_EQ(p.steering.steer(state, destination(53), false, calls).action, Action::redirected);
  EXPECT_EQ(p.errors.code, 4242) << "bind, getsockname and the channel set it meanwhile";
  p.steering.release(7);
  EXPECT_EQ(p.errors.code, 4242);
  p.client.current_service();
  EXPECT_EQ(p.errors.code, 4242);
}

TEST_P(ProviderCore, DirectLeavesTheCallAloneAndForgetsAnEarlierPeer) {
  Provider p;
  FakeSocketCalls calls(p.errors, family());
  SocketState state(family(), true, true);
  state.set_original_peer(destination(9));
  EXPECT_EQ(p.steering.steer(state, destination(), true, calls).action, Action::unchanged);
  EXPECT_FALSE(state.original_peer()) << "a socket connected anew, directly, has no other peer to report";
}

TEST_P(ProviderCore, RelayGoesToTheRelayAndAConnectKeepsTheOriginalPeer) {
  Provider p;
  p.service.decide = [](const json&) { return relay_to(7, 39001); };
  FakeSocketCalls calls(p.errors, family());
  SocketState state(family(), true, false);
  const Steered steered = p.steering.steer(state, destination(), true, calls);
  ASSERT_EQ(steered.action, Action::redirected);
  EXPECT_EQ(steered.target, address("127.0.0.1", 39001));
  ASSERT_TRUE(state.original_peer());
  EXPECT_EQ(*state.original_peer(), destination());
}

TEST_P(ProviderCore, BlockRefusesAConnectAsTcpAndADatagramAsADatagram) {
  Provider p;
  p.service.decide = [](const json&) { return json{{"verdict", "block"}}; };
  FakeSocketCalls calls(p.errors, family());
  SocketState tcp(family(), true, false), udp(family(), true, true);
  const Steered connect = p.steering.steer(tcp, destination(), true, calls);
  EXPECT_EQ(connect.action, Action::refused);
  EXPECT_EQ(connect.refusal, Refusal::refused_tcp);
  const Steered datagram = p.steering.steer(udp, destination(53), false, calls);
  EXPECT_EQ(datagram.action, Action::refused);
  EXPECT_EQ(datagram.refusal, Refusal::refused_datagram);
}

TEST_P(ProviderCore, WhatIsNotAFlowIsLeftAlone) {
  Provider p;
  p.service.decide = [](const json&) { return json{{"verdict", "block"}}; };
  FakeSocketCalls calls(p.errors, family());
  SocketState other(family(), false, false), tcp(family(), true, false), udp(family(), true, true);
  EXPECT_EQ(p.steering.steer(other, destination(), true, calls).action, Action::unchanged) << "not TCP or UDP";
  EXPECT_EQ(p.steering.steer(tcp, destination(), false, calls).action, Action::unchanged)
      << "a stream socket's send ignores its address";
  EXPECT_EQ(p.steering.steer(udp, destination(0), false, calls).action, Action::unchanged) << "port 0";
  EXPECT_EQ(p.steering.steer(udp, address(GetParam() ? "::" : "0.0.0.0", 53), false, calls).action, Action::unchanged);
  EXPECT_TRUE(p.service.registrations.empty());
}

TEST_P(ProviderCore, ASilentServiceLeavesItToTheFailModeWithinTheTimeout) {
  for (const FailMode mode : {FailMode::open, FailMode::closed}) {
    Provider p(mode, 300ms);
    p.service.decide = [](const json&) { return json(); };  // never answers
    FakeSocketCalls calls(p.errors, family());
    SocketState state(family(), true, true);
    const auto before = Clock::now();
    const Steered steered = p.steering.steer(state, destination(53), false, calls);
    const auto after = Clock::now();
    EXPECT_EQ(steered.action, mode == FailMode::open ? Action::unchanged : Action::refused);
    ASSERT_FALSE(p.service.deadlines.empty());
    EXPECT_GE(p.service.deadlines.front(), before + 300ms);
    EXPECT_LE(p.service.deadlines.front(), after + 300ms);
  }
}

TEST_P(ProviderCore, AnAbsentServiceLeavesItToTheFailMode) {
  Provider p(FailMode::closed);
  p.service.listening = false;
  FakeSocketCalls calls(p.errors, family());
  SocketState state(family(), true, true);
  const Steered steered = p.steering.steer(state, destination(53), false, calls);
  EXPECT_EQ(steered.action, Action::refused);
  EXPECT_EQ(steered.refusal, Refusal::refused_datagram);
}

TEST_P(ProviderCore, TheFailModeAndTimeoutTheServiceNamedWin) {
  Provider p(FailMode::open, 250ms);
  p.service.decide = [](const json&) { return json{{"verdict", "direct"}, {"fail_mode", "closed"}, {"timeout_ms", 900}}; };
  FakeSocketCalls calls(p.errors, family());
  SocketState state(family(), true, false);
  p.steering.steer(state, destination(80), true, calls);
  p.service.decide = [](const json&) { return json(); };
  const auto before = Clock::now();
  EXPECT_EQ(p.steering.steer(state, destination(81), true, calls).action, Action::refused);
  EXPECT_GE(p.service.deadlines.back(), before + 900ms);
}

TEST_P(ProviderCore, AKeptConnectionTheServiceDroppedIsRetriedOnceOnAFreshOne) {
  Provider p;
  FakeSocketCalls calls(p.errors, family());
  SocketState state(family(), true, true);
  p.steering.steer(state, destination(53), false, calls);
  ASSERT_EQ(p.service.connections, 1);
  p.service.drop_client();  // its idle timeout
  p.service.decide = [](const json&) { return json{{"verdict", "block"}}; };
  EXPECT_EQ(p.steering.steer(state, destination(54), false, calls).action, Action::refused) << "the service's verdict";
  EXPECT_EQ(p.service.connections, 2);
  // And a release, too: a lost one would leave the flow open in the service.
  p.service.drop_client();
  p.steering.release(7);
  EXPECT_EQ(p.service.releases, std::vector<std::uint64_t>{7});
  EXPECT_EQ(p.service.connections, 3);
}

TEST_P(ProviderCore, AFreshConnectionThatFailsIsNotRetried) {
  Provider p(FailMode::closed);
  p.service.decide = [](const json&) { return json(); };
  FakeSocketCalls calls(p.errors, family());
  SocketState state(family(), true, true);
  p.steering.steer(state, destination(53), false, calls);
  EXPECT_EQ(p.service.connections, 1);
  EXPECT_EQ(p.service.registrations.size(), 1u);
}

// The service restarted: the association a relayed UDP socket was given died with
// the process that opened it. The next datagram fails once; the one after is a new flow.
TEST_P(ProviderCore, ARelayedAssociationLostWithARestartFailsTheNextDatagramOnceThenRegistersAgain) {
  Provider p;
  std::uint64_t next_flow = 7;
  p.service.decide = [&](const json&) { return relay_to(next_flow++, 39001); };
  FakeSocketCalls calls(p.errors, family());
  SocketState state(family(), true, true);
  ASSERT_EQ(p.steering.steer(state, destination(53), false, calls).action, Action::redirected);
  EXPECT_EQ(p.steering.steer(state, destination(53), false, calls).action, Action::redirected) << "same service";
  ASSERT_EQ(p.service.registrations.size(), 1u);

  p.service.restart();
  const Steered lost = p.steering.steer(state, destination(53), false, calls);
  EXPECT_EQ(lost.action, Action::refused);
  EXPECT_EQ(lost.refusal, Refusal::association_lost);
  EXPECT_EQ(p.service.registrations.size(), 1u) << "the failing datagram is not a new flow";
  EXPECT_EQ(p.steering.steer(state, destination(53), false, calls).action, Action::redirected);
  EXPECT_EQ(p.service.registrations.size(), 2u) << "the next one is";
  EXPECT_TRUE(p.service.releases.empty()) << "the old service is gone: nobody to tell";
}

TEST_P(ProviderCore, AConnectOnALostAssociationDecidesAnewWithoutFailing) {
  Provider p;
  p.service.decide = [](const json&) { return relay_to(7, 39001); };
  FakeSocketCalls calls(p.errors, family());
  SocketState state(family(), true, true);
  p.steering.steer(state, destination(53), true, calls);
  p.service.stop();
  p.service.listening = true;  // back, as a new process
  p.service.instance = 300;
  EXPECT_EQ(p.steering.steer(state, destination(53), true, calls).action, Action::redirected);
  EXPECT_EQ(p.service.registrations.size(), 2u);
}

TEST_P(ProviderCore, AStoppedServiceLosesTheAssociationToo) {
  Provider p;
  p.service.decide = [](const json&) { return relay_to(7, 39001); };
  FakeSocketCalls calls(p.errors, family());
  SocketState state(family(), true, true);
  p.steering.steer(state, destination(53), false, calls);
  p.service.stop();
  EXPECT_EQ(p.steering.steer(state, destination(53), false, calls).refusal, Refusal::association_lost);
  EXPECT_EQ(p.steering.steer(state, destination(53), false, calls).action, Action::unchanged) << "fail mode open";
}

INSTANTIATE_TEST_SUITE_P(Families, ProviderCore, ::testing::Values(false, true),
                         [](const auto& info) { return info.param ? std::string("IPv6") : std::string("IPv4"); });

}  // namespace
}  // namespace sluice::provider
