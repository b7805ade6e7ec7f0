// The LSP's connection to sluiced (provider/core/service_client.h over
// provider/lsp/pipe_channel.h), against a stand-in
// server on the real control transport (a named pipe under Wine, a Unix socket on
// Linux: the client itself is platform-neutral). sluiced hangs up on a provider
// that stays silent past its idle timeout (60 s) but keeps its flows, so a release
// sent later must still arrive, on a fresh connection.

#include <gtest/gtest.h>

#include <chrono>
#include <future>
#include <string>
#include <thread>

#include "control/protocol/frame.h"
#include "control/protocol/jsonrpc.h"
#include "control/transport/transport.h"
#include "provider/core/service_client.h"
#include "provider/lsp/pipe_channel.h"
#include "tests/support/temp_dir.h"

namespace sluice::lsp {
namespace {

using namespace std::chrono_literals;
using protocol::json;

// Nothing here looks at the program's error code.
class ProgramError final : public provider::ErrorCode {
 public:
  int get() const override { return code; }
  void set(int value) override { code = value; }
  int code = 0;
};

// The next whole frame's JSON on `connection`, or null when none came within 5 s.
json read_message(transport::Connection& connection) {
  protocol::FrameDecoder decoder;
  std::string payload;
  char buffer[4096];
  const auto deadline = std::chrono::steady_clock::now() + 5s;
  while (!decoder.next(payload)) {
    if (std::chrono::steady_clock::now() >= deadline) return nullptr;
    try {
      const std::size_t n = connection.read_some(buffer, sizeof buffer, 500ms);
      if (n == 0) return nullptr;
      decoder.feed(buffer, n);
    } catch (const transport::TransportError& e) {
      if (e.kind() != transport::ErrorKind::timed_out) return nullptr;
    }
  }
  return json::parse(payload);
}

TEST(LspServiceClientTest, AReleaseAfterTheServiceHungUpGoesOutOnAFreshConnection) {
  test::TempDir dir;
  auto listener = transport::listen(test::unique_endpoint(dir));
  PipeChannel channel(listener->endpoint());
  ProgramError errors;
  provider::ServiceClient client(channel, errors);

  // The service answers a registration with a relay verdict, then hangs up as its
  // idle timeout would; the release must come on the next connection.
  auto service = std::async(std::launch::async, [&] {
    auto first = listener->accept();
    const json request = read_message(*first);
    if (request.is_null()) return json();
    const json answer{{"verdict", "relay"}, {"flow_id", 7}, {"relay", "127.0.0.1"}, {"relay_port", 40000},
                      {"fail_mode", "open"}, {"timeout_ms", 250}};
    first->write_all(protocol::encode_frame(json{{"jsonrpc", "2.0"}, {"id", request["id"]}, {"result", answer}}.dump()),
                     1s);
    first.reset();  // hung up
    auto second = listener->accept();
    return second ? read_message(*second) : json();
  });

  provider::RegisterRequest request;
  request.destination = "192.0.2.1";
  request.port = 9;
  request.local = "0.0.0.0";
  request.local_port = 40001;
  const auto answer = client.register_flow(request, 2s);
  ASSERT_TRUE(answer.has_value());
  ASSERT_EQ(answer->flow_id, 7u);

  std::this_thread::sleep_for(200ms);  // the hang-up has reached us
  client.release(7);
  if (service.wait_for(5s) != std::future_status::ready) listener->close();  // unblock accept()
  const json release = service.get();
  ASSERT_FALSE(release.is_null()) << "the release was lost with the old connection";
  EXPECT_EQ(release["method"], "flow.release");
  EXPECT_EQ(release["params"]["flow_id"], 7);
}

}  // namespace
}  // namespace sluice::lsp
