// The relay's process dying (SIGKILL, TerminateProcess) in the middle of a relayed
// TCP stream: the system closes the relay's sockets, and both programs must see a
// reset, never an end of stream, or a download cut short would look complete to a
// program with no length to check it against. The relay engine runs in a program of
// its own (tests/support/relay_host.cpp) that is killed; the application and the
// destination are plain sockets in this process. IPv4 and IPv6; epoll on Linux,
// IOCP on Windows (under Wine).

#include <gtest/gtest.h>

#include <memory>
#include <string>

#include "common/platform/platform.h"
#include "tests/support/child_process.h"
#include "tests/support/test_socket.h"

namespace sluice {
namespace {

constexpr int kWaitMs = 5000;

// What a program reading `socket` sees next: its bytes, "EOF", or "ERR:" and the error.
std::string next_read(const test::Socket& socket) {
  if (!test::readable(socket, kWaitMs)) return "<timeout>";
  char buffer[4096];
  const test::IoResult r = test::recv(socket, buffer, sizeof buffer);
  if (r.error == std::errc::connection_reset) return "ERR:ECONNRESET";
  if (r.error) return "ERR:" + r.error.message();
  if (r.bytes == 0) return "EOF";
  return std::string(buffer, r.bytes);
}

class RelayProcessDeathTest : public ::testing::TestWithParam<bool> {
 protected:
  void SetUp() override {
    test::start_sockets();
    if (ipv6()) {
      ASSERT_TRUE(test::ipv6_loopback_available()) << "this test needs IPv4 and IPv6 loopback";
    }
  }
  bool ipv6() const { return GetParam(); }
  std::string loopback() const { return ipv6() ? "::1" : "127.0.0.1"; }
};

TEST_P(RelayProcessDeathTest, BothProgramsSeeAResetNotAnEndOfStream) {
  const test::Socket listener = test::tcp_socket(ipv6());
  ASSERT_FALSE(test::bind(listener, {loopback(), 0}));
  ASSERT_FALSE(test::listen(listener, 4));
  const test::Socket app = test::tcp_socket(ipv6());
  ASSERT_FALSE(test::bind(app, {loopback(), 0}));

  auto relay = std::make_unique<test::ChildProcess>(
      test::program_beside_this_one("relay_host"),
      std::vector<std::string>{ipv6() ? "6" : "4", std::to_string(test::local_endpoint(app).port),
                               std::to_string(test::local_endpoint(listener).port), std::to_string(platform::current_pid())});
  const std::optional<std::string> relay_port = relay->read_line(kWaitMs);
  ASSERT_TRUE(relay_port) << "the relay did not come up";
  ASSERT_FALSE(test::connect(app, {loopback(), static_cast<std::uint16_t>(std::stoul(*relay_port))}));
  ASSERT_TRUE(test::readable(listener, kWaitMs));
  const test::Socket destination = test::accept(listener);
  ASSERT_TRUE(destination.valid());

  // A stream under way both ways, with nothing left unread anywhere.
  ASSERT_FALSE(test::send(destination, "part of a download").error);
  EXPECT_EQ(next_read(app), "part of a download");
  ASSERT_FALSE(test::send(app, "part of an upload").error);
  EXPECT_EQ(next_read(destination), "part of an upload");

  relay->kill();

  EXPECT_EQ(next_read(app), "ERR:ECONNRESET") << "the application must not take the cut-off download for a whole one";
  EXPECT_EQ(next_read(destination), "ERR:ECONNRESET") << "the destination must not take the cut-off upload for a whole one";
}

INSTANTIATE_TEST_SUITE_P(Families, RelayProcessDeathTest, ::testing::Bool(),
                         [](const auto& info) { return info.param ? "IPv6" : "IPv4"; });

}  // namespace
}  // namespace sluice
