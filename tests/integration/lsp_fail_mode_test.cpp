// sluice_lsp.dll with no service to ask: the fail mode decides (a hang would be
// caught by CTest's timeout). And loop prevention: in a process that runs as
// sluiced.exe, WSPStartup hands out the lower provider's own table. The LSP reads its settings once
// per process, so this is a process of its own: SLUICE_FAIL_MODE=closed, and a pipe
// nobody listens on. (The open fail mode is what lsp_spi_test sees whenever a
// relay verdict cannot be honoured.)

#include <winsock2.h>
#include <ws2tcpip.h>
#include <gtest/gtest.h>

#include <string>

#include "common/platform/platform.h"
#include "tests/support/spi_harness.h"
#include "tests/support/temp_dir.h"
#include "tests/support/winsock_base_provider.h"

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

// Set in the copy of this program that runs as sluiced.exe.
bool running_as_service_copy() { return platform::environment("SLUICE_TEST_AS_SERVICE") == "1"; }

// Runs `program` with `arguments`, waits (bounded) and returns its exit code.
DWORD run_and_wait(const std::string& program, const std::string& arguments) {
  std::string command = "\"" + program + "\" " + arguments;
  STARTUPINFOA startup{};
  startup.cb = sizeof startup;
  PROCESS_INFORMATION process{};
  if (!CreateProcessA(program.c_str(), command.data(), nullptr, nullptr, FALSE, 0, nullptr, nullptr, &startup, &process)) {
    return GetLastError() + 1000;
  }
  DWORD code = 999;
  if (WaitForSingleObject(process.hProcess, 120'000) == WAIT_OBJECT_0) GetExitCodeProcess(process.hProcess, &code);
  CloseHandle(process.hThread);
  CloseHandle(process.hProcess);
  return code;
}

// ARCHITECTURE.md: sluiced never goes through the provider, or its own relay
// connections would be steered back into itself.
TEST(LspLoopPrevention, SluicedGetsTheLowerProvidersOwnTable) {
  if (running_as_service_copy()) {
    WSPPROC_TABLE base{};
    WSPDATA data{};
    WSAPROTOCOL_INFOW info{};
    winsock_base_startup(MAKEWORD(2, 2), &data, &info, WSPUPCALLTABLE{}, &base);
    EXPECT_EQ(harness->lsp().lpWSPSocket, base.lpWSPSocket);
    EXPECT_EQ(harness->lsp().lpWSPConnect, base.lpWSPConnect);
    return;
  }
  // This program, copied as sluiced.exe beside the DLL, checks the above and exits 0.
  TempDir dir;
  char self[MAX_PATH];
  ASSERT_GT(GetModuleFileNameA(nullptr, self, MAX_PATH), 0u);
  std::string own_dir(self);
  own_dir.resize(own_dir.find_last_of('\\') + 1);
  const std::string copy = dir.file("sluiced.exe");
  ASSERT_TRUE(CopyFileA(self, copy.c_str(), FALSE));
  ASSERT_TRUE(CopyFileA((own_dir + SLUICE_LSP_DLL).c_str(), dir.file(SLUICE_LSP_DLL).c_str(), FALSE));
  SetEnvironmentVariableA("SLUICE_TEST_AS_SERVICE", "1");
  const DWORD code = run_and_wait(copy, "--gtest_filter=LspLoopPrevention.*");
  SetEnvironmentVariableA("SLUICE_TEST_AS_SERVICE", nullptr);
  EXPECT_EQ(code, 0u) << "the copy running as sluiced.exe went through the LSP";
}

}  // namespace
}  // namespace sluice::test

int main(int argc, char** argv) {
  ::testing::InitGoogleTest(&argc, argv);
  ::testing::AddGlobalTestEnvironment(new sluice::test::Closed());
  return RUN_ALL_TESTS();
}
