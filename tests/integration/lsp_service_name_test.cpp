// A program that calls itself sluiced.exe is steered like any other: the LSP exempts
// nobody by name (a name is anyone's to take). sluiced keeps the LSP out of its own
// sockets by making them from the base provider's entry instead
// (net/win_base_provider.h, tests/unit/net_win_base_provider_test.cpp).
//
// This program copies itself as sluiced.exe (with the DLL beside it) and runs the
// copy, which loads the LSP through the harness with SLUICE_FAIL_MODE=closed and a
// pipe nobody listens on: a steered process then has its datagram refused, while
// one the LSP let alone would get the lower provider's own table and send it.

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

// Set in the copy of this program that runs as sluiced.exe.
bool running_as_sluiced_copy() { return platform::environment("SLUICE_TEST_AS_SLUICED") == "1"; }

std::string own_path() {
  char self[MAX_PATH];
  const DWORD n = GetModuleFileNameA(nullptr, self, MAX_PATH);
  return std::string(self, n);
}

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

// What the copy named sluiced.exe checks: the LSP is between it and the network.
void check_steered_as_sluiced() {
  const std::string self = own_path();
  ASSERT_EQ(self.substr(self.find_last_of('\\') + 1), "sluiced.exe") << "the premise: this process is sluiced.exe";
  const std::string pipe = "\\\\.\\pipe\\sluice-absent-" + std::to_string(platform::current_pid());
  SetEnvironmentVariableA("SLUICE_CONTROL", pipe.c_str());
  SetEnvironmentVariableA("SLUICE_FAIL_MODE", "closed");
  SetEnvironmentVariableA("SLUICE_PROVIDER_TIMEOUT_MS", "200");
  SpiHarness harness(SLUICE_LSP_DLL);

  WSPPROC_TABLE base{};
  WSPDATA data{};
  WSAPROTOCOL_INFOW info{};
  winsock_base_startup(MAKEWORD(2, 2), &data, &info, WSPUPCALLTABLE{}, &base);
  EXPECT_NE(harness.lsp().lpWSPSendTo, base.lpWSPSendTo) << "the LSP handed sluiced.exe the lower provider's table";

  int error = 0;
  SOCKET s = harness.socket(AF_INET, SOCK_DGRAM, &error);
  ASSERT_NE(s, INVALID_SOCKET) << error;
  sockaddr_in target{};
  target.sin_family = AF_INET;
  target.sin_port = htons(9);
  target.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  char byte[] = "x";
  WSABUF buffer{1, byte};
  DWORD sent = 0;
  // Steered: no service answers and the fail mode is closed, so the datagram is
  // refused (an unsteered socket would send it).
  EXPECT_EQ(harness.lsp().lpWSPSendTo(s, &buffer, 1, &sent, 0, reinterpret_cast<sockaddr*>(&target), sizeof target,
                                      nullptr, nullptr, nullptr, &error),
            SOCKET_ERROR);
  EXPECT_EQ(error, WSAEACCES);
  harness.lsp().lpWSPCloseSocket(s, &error);
}

TEST(LspServiceName, AProgramNamedSluicedIsSteeredLikeAnyOther) {
  if (running_as_sluiced_copy()) {
    check_steered_as_sluiced();
    return;
  }
  TempDir dir;
  std::string own_dir = own_path();
  own_dir.resize(own_dir.find_last_of('\\') + 1);
  const std::string copy = dir.file("sluiced.exe");
  ASSERT_TRUE(CopyFileA(own_path().c_str(), copy.c_str(), FALSE));
  ASSERT_TRUE(CopyFileA((own_dir + SLUICE_LSP_DLL).c_str(), dir.file(SLUICE_LSP_DLL).c_str(), FALSE));
  SetEnvironmentVariableA("SLUICE_TEST_AS_SLUICED", "1");
  const DWORD code = run_and_wait(copy, "--gtest_filter=LspServiceName.*");
  SetEnvironmentVariableA("SLUICE_TEST_AS_SLUICED", nullptr);
  EXPECT_EQ(code, 0u) << "the copy running as sluiced.exe was not steered (exit code " << code << ")";
}

}  // namespace
}  // namespace sluice::test
