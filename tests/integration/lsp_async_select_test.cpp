// The threads sluice_lsp.dll starts, and its WSAAsyncSelect bridge, through the
// harness (tests/support/spi_harness), which unloads the DLL after the last
// WSPCleanup as ws2_32 does: WSPCleanup ends every thread of the DLL (one left
// running would execute unmapped code), any number of sockets gets its messages, and
// a connection's FD_CONNECT comes before its FD_WRITE. No service listens: the open
// fail mode sends every flow direct.

#include <winsock2.h>
#include <ws2tcpip.h>
#include <tlhelp32.h>
#include <gtest/gtest.h>

#include <chrono>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "common/platform/platform.h"
#include "net/socket_address.h"
#include "tests/support/spi_harness.h"

namespace sluice::test {
namespace {

using namespace std::chrono_literals;

constexpr int kHangRounds = 200;  // of 50 ms: a hang detector, not a timing claim

// The threads of this process that started in [begin, end): ThreadQuerySetWin32StartAddress.
int threads_started_in(ULONG_PTR begin, ULONG_PTR end) {
  using Query = LONG(WINAPI*)(HANDLE, int, PVOID, ULONG, PULONG);
  const auto query = reinterpret_cast<Query>(
      reinterpret_cast<void*>(GetProcAddress(GetModuleHandleA("ntdll.dll"), "NtQueryInformationThread")));
  constexpr int kThreadQuerySetWin32StartAddress = 9;
  HANDLE snapshot = CreateToolhelp32Snapshot(TH32CS_SNAPTHREAD, 0);
  int found = 0;
  THREADENTRY32 entry{};
  entry.dwSize = sizeof entry;
  for (BOOL more = Thread32First(snapshot, &entry); more; more = Thread32Next(snapshot, &entry)) {
    if (entry.th32OwnerProcessID != GetCurrentProcessId()) continue;
    HANDLE thread = OpenThread(THREAD_QUERY_INFORMATION, FALSE, entry.th32ThreadID);
    if (thread == nullptr) continue;
    ULONG_PTR start = 0;
    if (query(thread, kThreadQuerySetWin32StartAddress, &start, sizeof start, nullptr) == 0 && start >= begin && start < end) {
      ++found;
    }
    CloseHandle(thread);
  }
  CloseHandle(snapshot);
  return found;
}

class AsyncSelectTest : public ::testing::TestWithParam<bool> {
 protected:
  bool ipv6() const { return GetParam(); }
  int family() const { return ipv6() ? AF_INET6 : AF_INET; }
  sockaddr_storage loopback(std::uint16_t port, int& length) const {
    sockaddr_storage s{};
    length = net::to_sockaddr(*net::parse_endpoint(ipv6() ? "::1" : "127.0.0.1", port), family(), s);
    return s;
  }
  // A window of this test alone (messages are recorded, never posted).
  HWND window(int n) const { return reinterpret_cast<HWND>(static_cast<ULONG_PTR>(0x7000 + n * 2 + (ipv6() ? 1 : 0))); }
  // A datagram socket through the LSP, bound to loopback.
  SOCKET bound_udp(SpiHarness& harness) const {
    int error = 0, length = 0;
    SOCKET s = harness.socket(family(), SOCK_DGRAM, &error);
    EXPECT_NE(s, INVALID_SOCKET) << error;
    auto any = loopback(0, length);
    EXPECT_EQ(harness.lsp().lpWSPBind(s, reinterpret_cast<sockaddr*>(&any), length, &error), 0) << error;
    return s;
  }
};

// The events posted for `s` to `w`, in order.
std::vector<long> posted_events(HWND w, SOCKET s) {
  std::vector<long> events;
  for (const auto& m : SpiHarness::posted_messages()) {
    if (m.window == w && m.wparam == s) events.push_back(WSAGETSELECTEVENT(m.lparam));
  }
  return events;
}

// ws2_32 unloads a provider after its last WSPCleanup: a thread the LSP started and
// left running (the WSAAsyncSelect bridge's did) would run code no longer mapped.
TEST_P(AsyncSelectTest, WSPCleanupEndsEveryThreadTheDllStarted) {
  auto harness = std::make_unique<SpiHarness>(SLUICE_LSP_DLL);
  const auto base = reinterpret_cast<ULONG_PTR>(harness->dll());
  const auto* dos = reinterpret_cast<const IMAGE_DOS_HEADER*>(base);
  const auto* nt = reinterpret_cast<const IMAGE_NT_HEADERS*>(base + dos->e_lfanew);
  const ULONG_PTR end = base + nt->OptionalHeader.SizeOfImage;
  SOCKET s = bound_udp(*harness);
  int error = 0;
  ASSERT_EQ(harness->lsp().lpWSPAsyncSelect(s, window(0), WM_USER, FD_WRITE | FD_READ, &error), 0) << error;
  for (int i = 0; i < kHangRounds && posted_events(window(0), s).empty(); ++i) std::this_thread::sleep_for(50ms);
  ASSERT_FALSE(posted_events(window(0), s).empty());
  ASSERT_GE(threads_started_in(base, end), 2) << "the forwarder and the bridge: else this test sees nothing";
  harness.reset();  // WSPCleanup for every chain, then FreeLibrary; the socket left open, as programs do
  EXPECT_EQ(GetModuleHandleA(SLUICE_LSP_DLL), nullptr) << "the harness did not unload the DLL";
  EXPECT_EQ(threads_started_in(base, end), 0) << "a thread of the DLL outlived it";
}

// WSAAsyncSelect has no limit on sockets; one wait covers 64 handles at most.
TEST_P(AsyncSelectTest, MoreSocketsThanOneWaitCoversAllGetTheirMessages) {
  SpiHarness harness(SLUICE_LSP_DLL);
  constexpr int kSockets = 2 * MAXIMUM_WAIT_OBJECTS + 3;
  std::vector<SOCKET> sockets;
  int error = 0;
  for (int i = 0; i < kSockets; ++i) {
    sockets.push_back(bound_udp(harness));
    ASSERT_EQ(harness.lsp().lpWSPAsyncSelect(sockets.back(), window(1), WM_USER + 1, FD_WRITE, &error), 0)
        << "socket " << i << ": " << error;
  }
  auto all_told = [&] {
    for (SOCKET s : sockets) {
      if (posted_events(window(1), s).empty()) return false;
    }
    return true;
  };
  for (int i = 0; i < kHangRounds && !all_told(); ++i) std::this_thread::sleep_for(50ms);
  for (int i = 0; i < kSockets; ++i) EXPECT_EQ(posted_events(window(1), sockets[i]), std::vector<long>{FD_WRITE}) << i;
  for (SOCKET s : sockets) harness.lsp().lpWSPCloseSocket(s, &error);
}

// WSAAsyncSelect: FD_WRITE is sent "after a connect or accept", once the connection
// is established, so a program learns of the connection (FD_CONNECT) first.
TEST_P(AsyncSelectTest, FdConnectIsPostedBeforeFdWrite) {
  SpiHarness harness(SLUICE_LSP_DLL);  // first: its WSAStartup serves the plain listener too
  SOCKET listener = ::socket(family(), SOCK_STREAM, 0);
  int length = 0;
  auto any = loopback(0, length);
  ASSERT_EQ(bind(listener, reinterpret_cast<sockaddr*>(&any), length), 0);
  ASSERT_EQ(listen(listener, 4), 0);
  sockaddr_storage bound{};
  int bound_length = sizeof bound;
  getsockname(listener, reinterpret_cast<sockaddr*>(&bound), &bound_length);
  const WSPPROC_TABLE& lsp = harness.lsp();
  int error = 0;
  SOCKET s = harness.socket(family(), SOCK_STREAM, &error);
  ASSERT_NE(s, INVALID_SOCKET) << error;
  ASSERT_EQ(lsp.lpWSPAsyncSelect(s, window(2), WM_USER + 2, FD_CONNECT | FD_WRITE, &error), 0) << error;
  const int rc = lsp.lpWSPConnect(s, reinterpret_cast<sockaddr*>(&bound), bound_length, nullptr, nullptr, nullptr, nullptr,
                                  &error);
  ASSERT_TRUE(rc == 0 || error == WSAEWOULDBLOCK) << error;
  for (int i = 0; i < kHangRounds && posted_events(window(2), s).size() < 2; ++i) std::this_thread::sleep_for(50ms);
  EXPECT_EQ(posted_events(window(2), s), (std::vector<long>{FD_CONNECT, FD_WRITE}));
  lsp.lpWSPCloseSocket(s, &error);
  closesocket(listener);
}

INSTANTIATE_TEST_SUITE_P(Families, AsyncSelectTest, ::testing::Values(false, true),
                         [](const auto& info) { return info.param ? std::string("IPv6") : std::string("IPv4"); });

}  // namespace
}  // namespace sluice::test

int main(int argc, char** argv) {
  ::testing::InitGoogleTest(&argc, argv);
  // Read by the LSP each time the harness loads it: a pipe nobody serves, fail open.
  const std::string pipe = "\\\\.\\pipe\\sluice-absent-" + std::to_string(sluice::platform::current_pid());
  SetEnvironmentVariableA("SLUICE_CONTROL", pipe.c_str());
  SetEnvironmentVariableA("SLUICE_FAIL_MODE", "open");
  return RUN_ALL_TESTS();
}
