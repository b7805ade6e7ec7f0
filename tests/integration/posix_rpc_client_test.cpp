// RpcClient against a Unix-socket peer that behaves as sluiced does when it turns a
// client away: it writes its error and hangs up without reading. POSIX only: on a
// Unix socket, sending to a peer that has closed fails at once (EPIPE) while what
// it wrote stays readable, which makes the order of events certain.
#include <gtest/gtest.h>

#include <thread>

#include "control/transport/framing.h"
#include "control/transport/rpc_client.h"
#include "tests/support/temp_dir.h"

namespace sluice::transport {
namespace {

using namespace std::chrono_literals;
using protocol::json;

// Seen under ThreadSanitizer's timing in ControlServerTest's flood test: the
// client's request failed with "send: Broken pipe" and the "server busy" answer
// waiting in its socket was never read.
TEST(PosixRpcClientTest, ARefusalSentBeforeTheRequestIsReportedNotABrokenPipe) {
  test::TempDir dir;
  const std::string endpoint = test::unique_endpoint(dir);
  auto listener = listen(endpoint);
  std::thread peer([&] {
    auto connection = listener->accept();
    protocol::FrameDecoder decoder;
    auto hello = read_frame(*connection, decoder, 5s);  // answers the hello as sluiced would
    ASSERT_TRUE(hello);
    write_frame(*connection, json{{"jsonrpc", "2.0"}, {"id", json::parse(*hello)["id"]}, {"result", json::object()}}.dump(), 5s);
    // Then turns the next request away before it is sent, and hangs up.
    write_frame(*connection, protocol::make_error_response(nullptr, protocol::kServerBusy, "too many clients").dump(), 5s);
  });
  RpcClient client(endpoint, 5s, "test");
  peer.join();  // the peer has written its refusal and closed: the next send fails
  try {
    client.call("rule.list");
    FAIL() << "the call succeeded";
  } catch (const protocol::RpcError& e) {
    EXPECT_EQ(e.code(), protocol::kServerBusy);
    EXPECT_STREQ(e.what(), "too many clients");
  } catch (const TransportError& e) {
    FAIL() << "the refusal was not read: " << e.what();
  }
}

}  // namespace
}  // namespace sluice::transport
