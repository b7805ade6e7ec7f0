// sluice_lsp.dll with no service to ask: the fail mode decides (a hang would be
// caught by CTest's timeout). (That a program named sluiced.exe is steered like any
// other is lsp_service_name_test's.) The LSP reads its settings once
// per process, so this is a process of its own: SLUICE_FAIL_MODE=closed, and a pipe
// nobody listens on. (The open fail mode is what lsp_spi_test sees whenever a
// relay verdict cannot be honoured.)

#include <winsock2.h>
#include <ws2tcpip.h>
#include <gtest/gtest.h>

#include <string>

#include "common/platform/platform.h"
#include "tests/support/spi_harness.h"

namespace sluice::test {
namespace {

SpiHarness* harness = nullptr;

class Closed : public ::testing::Environment {
 public:
  void SetUp() override {
    const std::string pipe = "\\\\.\\pipe\\sluice-absent-" + std::to_string(platform::current_pid());
    SetEnvironmentVariableA("SLUICE_CONTROL", pipe.c_str());
    SetEnvironmentVariableA("SLUICE_FAIL_MODE", "closed");
    SetEnvironmentVariableA("SLUICE_PROVIDER_TIMEOUT_MS", "200");
    harness = new SpiHarness(SLUICE_LSP_DLL);
  }
  void TearDown() override { delete harness; }
};

sockaddr_in loopback(std::uint16_t port) {
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(port);
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  return a;
}

TEST(LspFailModeTest, ClosedFailModeRefusesConnectsWhenTheServiceIsAbsent) {
  int error = 0;
  SOCKET s = harness->socket(AF_INET, SOCK_STREAM, &error);
  ASSERT_NE(s, INVALID_SOCKET) << error;
  auto target = loopback(9);
  EXPECT_EQ(harness->lsp().lpWSPConnect(s, reinterpret_cast<sockaddr*>(&target), sizeof target, nullptr, nullptr, nullptr,
                                        nullptr, &error), SOCKET_ERROR);
  EXPECT_EQ(error, WSAECONNREFUSED);
  harness->lsp().lpWSPCloseSocket(s, &error);
}

TEST(LspFailModeTest, ClosedFailModeRefusesDatagramsWhenTheServiceIsAbsent) {
  int error = 0;
  SOCKET s = harness->socket(AF_INET, SOCK_DGRAM, &error);
  ASSERT_NE(s, INVALID_SOCKET) << error;
  auto target = loopback(9);
  char data[] = "x";
  WSABUF b{1, data};
  DWORD sent = 0;
  EXPECT_EQ(harness->lsp().lpWSPSendTo(s, &b, 1, &sent, 0, reinterpret_cast<sockaddr*>(&target), sizeof target, nullptr,
                                       nullptr, nullptr, &error), SOCKET_ERROR);
  EXPECT_EQ(error, WSAEACCES);
  harness->lsp().lpWSPCloseSocket(s, &error);
}

}  // namespace
}  // namespace sluice::test

int main(int argc, char** argv) {
  ::testing::InitGoogleTest(&argc, argv);
  ::testing::AddGlobalTestEnvironment(new sluice::test::Closed());
  return RUN_ALL_TESTS();
}
