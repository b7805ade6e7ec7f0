// The control server over the real platform transport (Unix socket, or named pipe
// under Wine): well-formed calls, and every kind of bad client, each followed by a
// check that the next client is still answered.
#include "service/control_server.h"

#include <gtest/gtest.h>

#include <random>
#include <thread>

#include "control/transport/framing.h"
#include "control/transport/rpc_client.h"
#include "tests/support/temp_dir.h"

namespace sluice::service {
namespace {

using namespace std::chrono_literals;
using protocol::json;

class ControlServerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dispatcher.add("sluice.hello", protocol::Access::read, [](const json&, const protocol::Caller&) { return json::object(); });
    dispatcher.add("echo", protocol::Access::read, [](const json& p, const protocol::Caller&) { return p; });
    dispatcher.add("caller", protocol::Access::read, [](const json&, const protocol::Caller& c) {
      return json{{"pid", c.pid}, {"administrator", c.administrator}};
    });
  }

  void start(ControlServerLimits limits = {}) {
    endpoint = test::unique_endpoint(dir);
    server = std::make_unique<ControlServer>(transport::listen(endpoint), dispatcher, limits);
    server->start();
  }

  // A fresh client must always be answered, whatever earlier clients did.
  void expect_service_answers() {
    transport::RpcClient client(endpoint, 5s, "test");
    EXPECT_EQ(client.call("echo", json{{"n", 1}})["n"], 1);
  }

  // Sends raw bytes, then reads whatever frame the server sends back (if any).
  std::optional<json> send_raw(const std::string& bytes, bool close_write_side_after = false) {
    auto connection = transport::connect(endpoint, 5s);
    connection->write_all(bytes, 5s);
    if (close_write_side_after) return std::nullopt;
    protocol::FrameDecoder decoder;
    auto payload = transport::read_frame(*connection, decoder, 5s);
    if (!payload) return std::nullopt;
    return json::parse(*payload);
  }

  test::TempDir dir;
  std::string endpoint;
  protocol::Dispatcher dispatcher;
  std::unique_ptr<ControlServer> server;
};

TEST_F(ControlServerTest, AnswersRequestsInOrderOnOneConnection) {
  start();
  transport::RpcClient client(endpoint, 5s, "test");
  for (int i = 0; i < 20; ++i) EXPECT_EQ(client.call("echo", json{{"i", i}})["i"], i);
}

TEST_F(ControlServerTest, ReportsTheCallerAsTheOperatingSystemSeesIt) {
  start();
  transport::RpcClient client(endpoint, 5s, "test");
  json caller = client.call("caller");
  EXPECT_GT(caller["pid"].get<std::int64_t>(), 0) << "the peer's pid comes from the OS";
}

TEST_F(ControlServerTest, MalformedJsonGetsAParseErrorAndTheConnectionStaysUsable) {
  start();
  auto connection = transport::connect(endpoint, 5s);
  protocol::FrameDecoder decoder;
  transport::write_frame(*connection, "{this is not json", 5s);
  json error = json::parse(*transport::read_frame(*connection, decoder, 5s));
  EXPECT_EQ(error["error"]["code"], protocol::kParseError);
  transport::write_frame(*connection, protocol::make_request(2, "echo", json{{"ok", true}}).dump(), 5s);
  json answer = json::parse(*transport::read_frame(*connection, decoder, 5s));
  EXPECT_EQ(answer["result"]["ok"], true);
}

TEST_F(ControlServerTest, UnknownMethodIsAnErrorNotADisconnect) {
  start();
  transport::RpcClient client(endpoint, 5s, "test");
  try {
    client.call("no.such.method");
    FAIL();
  } catch (const protocol::RpcError& e) {
    EXPECT_EQ(e.code(), protocol::kMethodNotFound);
  }
  EXPECT_EQ(client.call("echo", json{{"still", "here"}})["still"], "here");
}

TEST_F(ControlServerTest, ATwoGibLengthPrefixIsRefusedAndClosedWithoutAllocating) {
  start();
  auto answer = send_raw(std::string("\x80\x00\x00\x00", 4) + "xxxx");
  ASSERT_TRUE(answer.has_value());
  EXPECT_EQ((*answer)["error"]["code"], protocol::kInvalidRequest);
  EXPECT_NE((*answer)["error"]["message"].get<std::string>().find("2147483648"), std::string::npos);
  expect_service_answers();
  EXPECT_GE(server->counters().protocol_errors, 1u);
}

TEST_F(ControlServerTest, RandomBytesDoNotStopTheService) {
  start();
  std::mt19937 rng(20261122);  // fixed seed: a failure is reproducible
  for (int round = 0; round < 20; ++round) {
    std::string junk(1 + rng() % 512, '\0');
    for (char& c : junk) c = static_cast<char>(rng());
    auto connection = transport::connect(endpoint, 5s);
    connection->write_all(junk, 5s);
    connection.reset();  // hang up mid-whatever
  }
  expect_service_answers();
}

TEST_F(ControlServerTest, ATruncatedFrameIsDroppedAndTheServiceGoesOn) {
  start();
  const std::string frame = protocol::encode_frame(protocol::make_request(1, "echo").dump());
  send_raw(frame.substr(0, frame.size() / 2), /*close_write_side_after=*/true);
  send_raw(frame.substr(0, 2), /*close_write_side_after=*/true);  // a truncated header too
  expect_service_answers();
}

TEST_F(ControlServerTest, AnIdleClientIsDisconnectedAfterTheTimeout) {
  start(ControlServerLimits{.max_clients = 64, .idle_timeout = 300ms});
  auto idle = transport::connect(endpoint, 5s);
  char byte;
  // The server hangs up on us: end of stream (0), or a reset reported as closed.
  try {
    EXPECT_EQ(idle->read_some(&byte, 1, 10s), 0u);
  } catch (const transport::TransportError& e) {
    EXPECT_EQ(e.kind(), transport::ErrorKind::closed) << e.what();
  }
  expect_service_answers();
}

TEST_F(ControlServerTest, ClientsOverTheLimitAreToldTheServiceIsBusy) {
  start(ControlServerLimits{.max_clients = 2});
  transport::RpcClient first(endpoint, 5s, "test");
  transport::RpcClient second(endpoint, 5s, "test");
  try {
    transport::RpcClient third(endpoint, 5s, "test");
    FAIL() << "a third client must be refused";
  } catch (const protocol::RpcError& e) {
    EXPECT_EQ(e.code(), protocol::kServerBusy);
  } catch (const transport::TransportError&) {
    // The refusal raced our request: also a refusal.
  }
  EXPECT_EQ(server->counters().clients_refused, 1u);
  EXPECT_EQ(first.call("echo", json{{"a", 1}})["a"], 1);
}

TEST_F(ControlServerTest, StopDisconnectsConnectedClientsWithoutHanging) {
  start();
  transport::RpcClient client(endpoint, 5s, "test");
  auto silent = transport::connect(endpoint, 5s);
  server->stop();
  EXPECT_THROW(client.call("echo"), std::exception);
}

TEST_F(ControlServerTest, ASecondServerCannotTakeALiveEndpoint) {
  start();
  try {
    auto second = transport::listen(endpoint);
    FAIL() << "the endpoint is in use";
  } catch (const transport::TransportError& e) {
    EXPECT_EQ(e.kind(), transport::ErrorKind::in_use) << e.what();
  }
  expect_service_answers();
}

TEST_F(ControlServerTest, ManyClientsAtOnceAreAllAnswered) {
  start();
  std::vector<std::thread> threads;
  std::atomic<int> answered{0};
  for (int t = 0; t < 8; ++t) {
    threads.emplace_back([&, t] {
      transport::RpcClient client(endpoint, 10s, "test");
      for (int i = 0; i < 10; ++i) {
        if (client.call("echo", json{{"t", t}, {"i", i}})["i"] == i) ++answered;
      }
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(answered.load(), 80);
}

}  // namespace
}  // namespace sluice::service
