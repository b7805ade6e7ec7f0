// The completion forwarder of sluice_lsp.dll, through the harness (tests/support/
// spi_harness) over the harness's base provider: an operation that fails at once
// while its lower packet is still queued is kept until that packet is drained, and
// told to the program once (LPWSPSENDTO, Return value); and no completion waits on a
// flow release that a slow service holds up. The service here is a stand-in on a pipe
// (win_pipe_registration_service) that can be made to sit on a registration.

#include <winsock2.h>
#include <ws2tcpip.h>
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "common/platform/platform.h"
#include "net/socket_address.h"
#include "tests/support/spi_harness.h"
#include "tests/support/win_pipe_registration_service.h"
#include "tests/support/winsock_base_provider.h"

namespace sluice::test {
namespace {

using namespace std::chrono_literals;
using nlohmann::json;

// Generous bounds that only catch a hang: Wine completes a few thousand operations a second.
constexpr DWORD kHangMs = 10'000;
constexpr std::uint16_t kRelayedPort = 9;   // a destination the service relays
constexpr std::uint16_t kHeldPort = 13;     // a destination the service sits on
constexpr std::uint64_t kFirstFlowId = 4100;

// The service: relays kRelayedPort to `relay_sink`, answers kHeldPort only once
// `held` is set, and says direct to everything else.
std::atomic<std::uint16_t> relay_sink{0};
std::atomic<std::uint64_t> next_flow_id{kFirstFlowId};
HANDLE held = nullptr;  // manual-reset event
std::unique_ptr<PipeRegistrationService> service;

json decide(const json& params) {
  const auto port = params["port"].get<std::uint16_t>();
  if (port == kHeldPort) WaitForSingleObject(held, 60'000);
  if (port != kRelayedPort) return {{"verdict", "direct"}, {"fail_mode", "open"}, {"timeout_ms", 30'000}};
  return {{"verdict", "relay"}, {"flow_id", next_flow_id++}, {"relay", params["destination"]},
          {"relay_port", relay_sink.load()}, {"fail_mode", "open"}, {"timeout_ms", 30'000}};
}

class AsyncTest : public ::testing::TestWithParam<bool> {
 protected:
  bool ipv6() const { return GetParam(); }
  int family() const { return ipv6() ? AF_INET6 : AF_INET; }
  sockaddr_storage loopback(std::uint16_t port, int& length) const {
    sockaddr_storage s{};
    length = net::to_sockaddr(*net::parse_endpoint(ipv6() ? "::1" : "127.0.0.1", port), family(), s);
    return s;
  }
  // A plain socket of real Winsock (not through the LSP), bound to loopback.
  SOCKET plain_udp() const {
    SOCKET s = ::socket(family(), SOCK_DGRAM, 0);
    int length = 0;
    auto any = loopback(0, length);
    EXPECT_EQ(bind(s, reinterpret_cast<sockaddr*>(&any), length), 0);
    return s;
  }
  static std::uint16_t port_of(SOCKET s, const WSPPROC_TABLE* lsp = nullptr) {
    sockaddr_storage a{};
    int length = sizeof a, error = 0;
    if (lsp != nullptr) {
      lsp->lpWSPGetSockName(s, reinterpret_cast<sockaddr*>(&a), &length, &error);
    } else {
      getsockname(s, reinterpret_cast<sockaddr*>(&a), &length);
    }
    auto e = net::from_sockaddr(reinterpret_cast<sockaddr*>(&a), length);
    return e ? e->port : 0;
  }
  void send_plain(SOCKET from, std::uint16_t port, int size) const {
    int length = 0;
    auto to = loopback(port, length);
    std::string data(static_cast<std::size_t>(size), 'd');
    ASSERT_EQ(sendto(from, data.data(), size, 0, reinterpret_cast<sockaddr*>(&to), length), size);
  }
};

// An overlapped receive and what it is given.
struct Receive {
  WSAOVERLAPPED overlapped{};
  char buffer[256] = {};
  WSABUF wsabuf{sizeof buffer, buffer};
  sockaddr_storage from{};
  int from_length = sizeof from;
  DWORD flags = 0, received = 0;
  Receive() { overlapped.hEvent = CreateEventW(nullptr, TRUE, FALSE, nullptr); }
  ~Receive() { CloseHandle(overlapped.hEvent); }
  // 0, or the call's error (WSA_IO_PENDING when started).
  int post(const WSPPROC_TABLE& lsp, SOCKET s, ULONG size = sizeof(Receive::buffer)) {
    wsabuf.len = size;
    int error = 0;
    return lsp.lpWSPRecvFrom(s, &wsabuf, 1, &received, &flags, reinterpret_cast<sockaddr*>(&from), &from_length, &overlapped,
                             nullptr, SpiHarness::this_thread(), &error) == 0 ? 0 : error;
  }
  bool completed(DWORD ms) const { return WaitForSingleObject(overlapped.hEvent, ms) == WAIT_OBJECT_0; }
};

// The premise of the next test, held of the base provider as of real Windows: a
// warning status (STATUS_BUFFER_OVERFLOW, WSAEMSGSIZE) fails the call at once and
// still queues its packet; only error statuses queue nothing.
TEST_P(AsyncTest, TheBaseProviderQueuesAPacketForASynchronousWSAEMSGSIZE) {
  WSPPROC_TABLE base{};
  WSPDATA data{};
  WSAPROTOCOL_INFOW info{};
  ASSERT_EQ(winsock_base_startup(MAKEWORD(2, 2), &data, &info, WSPUPCALLTABLE{}, &base), 0);
  int error = 0;
  SOCKET s = base.lpWSPSocket(family(), SOCK_DGRAM, IPPROTO_UDP, nullptr, 0, WSA_FLAG_OVERLAPPED, &error);
  int length = 0;
  auto any = loopback(0, length);
  ASSERT_EQ(base.lpWSPBind(s, reinterpret_cast<sockaddr*>(&any), length, &error), 0);
  HANDLE port = CreateIoCompletionPort(INVALID_HANDLE_VALUE, nullptr, 0, 1);
  ASSERT_EQ(CreateIoCompletionPort(reinterpret_cast<HANDLE>(s), port, 1, 0), port);
  SOCKET sender = plain_udp();
  send_plain(sender, port_of(s), 100);
  fd_set readable;
  FD_ZERO(&readable);
  FD_SET(s, &readable);
  timeval wait{kHangMs / 1000, 0};
  ASSERT_EQ(select(0, &readable, nullptr, nullptr, &wait), 1);
  Receive r;
  r.wsabuf.len = 10;
  ASSERT_EQ(base.lpWSPRecvFrom(s, &r.wsabuf, 1, &r.received, &r.flags, reinterpret_cast<sockaddr*>(&r.from), &r.from_length,
                               &r.overlapped, nullptr, nullptr, &error), SOCKET_ERROR);
  ASSERT_EQ(error, WSAEMSGSIZE);
  DWORD bytes = 0;
  ULONG_PTR key = 0;
  OVERLAPPED* done = nullptr;
  GetQueuedCompletionStatus(port, &bytes, &key, &done, kHangMs);
  EXPECT_EQ(done, &r.overlapped) << "no packet: the LSP test below would show nothing";
  closesocket(sender);
  base.lpWSPCloseSocket(s, &error);
  CloseHandle(port);
}

// LPWSPSENDTO, Return value: "Any other error code indicates that no overlapped
// operation was initiated and no completion indication will occur." A receive too
// small for the datagram waiting fails at once with WSAEMSGSIZE, while the lower
// provider still queues its packet on the LSP's port: the LSP keeps the operation
// until then (it freed it, and the forwarder read freed memory) and the program hears
// of it only from the call.
TEST_P(AsyncTest, ASynchronousWSAEMSGSIZEIsToldOnlyByTheCallThoughItsLowerPacketFollows) {
  SpiHarness harness(SLUICE_LSP_DLL);
  const WSPPROC_TABLE& lsp = harness.lsp();
  int error = 0;
  SOCKET s = harness.socket(family(), SOCK_DGRAM, &error);
  ASSERT_NE(s, INVALID_SOCKET) << error;
  int length = 0;
  auto any = loopback(0, length);
  ASSERT_EQ(lsp.lpWSPBind(s, reinterpret_cast<sockaddr*>(&any), length, &error), 0) << error;
  HANDLE port = CreateIoCompletionPort(INVALID_HANDLE_VALUE, nullptr, 0, 1);
  ASSERT_TRUE(SpiHarness::associate(s, port, 7));
  SOCKET sender = plain_udp();
  for (int attempt = 0; attempt < 20; ++attempt) {
    send_plain(sender, port_of(s, &lsp), 100);
    fd_set readable;
    FD_ZERO(&readable);
    FD_SET(s, &readable);
    timeval wait{kHangMs / 1000, 0};
    ASSERT_EQ(lsp.lpWSPSelect(0, &readable, nullptr, nullptr, &wait, &error), 1) << error;
    Receive truncated;
    ASSERT_EQ(truncated.post(lsp, s, 10), WSAEMSGSIZE);
    // Packets are forwarded in order: once a later receive on the same port has
    // completed, the truncated one's lower packet has been handled.
    Receive later;
    ASSERT_EQ(later.post(lsp, s), WSA_IO_PENDING);
    send_plain(sender, port_of(s, &lsp), 5);
    DWORD bytes = 0;
    ULONG_PTR key = 0;
    OVERLAPPED* done = nullptr;
    ASSERT_TRUE(GetQueuedCompletionStatus(port, &bytes, &key, &done, kHangMs));
    EXPECT_EQ(done, &later.overlapped) << "the failed receive completed as well";
    EXPECT_EQ(bytes, 5u);
    EXPECT_FALSE(truncated.completed(0)) << "the failed receive's event was set";
    EXPECT_FALSE(GetQueuedCompletionStatus(port, &bytes, &key, &done, 0)) << "a second packet for one operation";
  }
  closesocket(sender);
  EXPECT_EQ(lsp.lpWSPCloseSocket(s, &error), 0);
  CloseHandle(port);
}

// One forwarder reports every overlapped completion of the process. A relayed
// socket's flow is released when its last holder lets go, often the forwarder
// reporting the socket's aborted receive; the release is pipe I/O under the
// registration client's lock, which a registration stuck on a slow service holds.
// Other sockets' completions must still arrive meanwhile.
TEST_P(AsyncTest, CompletionsArriveWhileAFlowReleaseWaitsOnASlowService) {
  SOCKET sink = plain_udp();
  relay_sink = port_of(sink);
  ResetEvent(held);
  SpiHarness harness(SLUICE_LSP_DLL);
  const WSPPROC_TABLE& lsp = harness.lsp();
  int error = 0, length = 0;
  const std::uint64_t first_flow = next_flow_id;
  const std::size_t registered = service->registrations();
  // Relayed sockets, each with a receive pending.
  constexpr int kRelayed = 4;
  std::vector<SOCKET> relayed;
  std::vector<std::unique_ptr<Receive>> aborted;
  for (int i = 0; i < kRelayed; ++i) {
    SOCKET s = harness.socket(family(), SOCK_DGRAM, &error);
    ASSERT_NE(s, INVALID_SOCKET) << error;
    auto destination = loopback(kRelayedPort, length);
    ASSERT_EQ(lsp.lpWSPConnect(s, reinterpret_cast<sockaddr*>(&destination), length, nullptr, nullptr, nullptr, nullptr,
                               &error), 0) << error;
    relayed.push_back(s);
    aborted.push_back(std::make_unique<Receive>());
    ASSERT_EQ(aborted.back()->post(lsp, s), WSA_IO_PENDING);
  }
  ASSERT_EQ(next_flow_id.load(), first_flow + kRelayed) << "the flows were not relayed";
  // A registration the service sits on, holding the client's lock.
  std::thread registering([&] {
    int e = 0, l = 0;
    SOCKET c = harness.socket(family(), SOCK_DGRAM, &e);
    auto destination = loopback(kHeldPort, l);
    lsp.lpWSPConnect(c, reinterpret_cast<sockaddr*>(&destination), l, nullptr, nullptr, nullptr, nullptr, &e);
    lsp.lpWSPCloseSocket(c, &e);
  });
  // (No ASSERT from here on: the threads must be joined.)
  EXPECT_TRUE(service->wait_for_registrations(registered + kRelayed + 1, 10s));
  std::thread closing([&] {
    int e = 0;
    for (SOCKET s : relayed) lsp.lpWSPCloseSocket(s, &e);
  });
  const bool first_aborted = aborted.front()->completed(kHangMs);
  // Another socket's receive, not steered at all.
  SOCKET other = harness.socket(family(), SOCK_DGRAM, &error);
  auto any = loopback(0, length);
  EXPECT_EQ(lsp.lpWSPBind(other, reinterpret_cast<sockaddr*>(&any), length, &error), 0) << error;
  Receive r;
  EXPECT_EQ(r.post(lsp, other), WSA_IO_PENDING);
  SOCKET sender = plain_udp();
  send_plain(sender, port_of(other, &lsp), 3);
  const bool other_completed = r.completed(kHangMs);
  SetEvent(held);  // the service answers at last
  registering.join();
  closing.join();
  EXPECT_TRUE(first_aborted) << "the first relayed socket's aborted receive was never reported";
  EXPECT_TRUE(other_completed) << "a completion waited on a flow release";
  // The releases still reach the service.
  for (int i = 0; i < kRelayed; ++i) EXPECT_TRUE(service->wait_for_release(first_flow + i, 10s)) << first_flow + i;
  lsp.lpWSPCloseSocket(other, &error);
  closesocket(sender);
  closesocket(sink);
}

INSTANTIATE_TEST_SUITE_P(Families, AsyncTest, ::testing::Values(false, true),
                         [](const auto& info) { return info.param ? std::string("IPv6") : std::string("IPv4"); });

}  // namespace
}  // namespace sluice::test

int main(int argc, char** argv) {
  ::testing::InitGoogleTest(&argc, argv);
  WSADATA wsa;
  WSAStartup(MAKEWORD(2, 2), &wsa);
  using namespace sluice::test;
  held = CreateEventW(nullptr, TRUE, FALSE, nullptr);
  const std::string endpoint = "\\\\.\\pipe\\sluice-async-test-" + std::to_string(sluice::platform::current_pid());
  service = std::make_unique<PipeRegistrationService>(endpoint, decide);
  // Read by the LSP each time the harness loads it, as a program's environment would be.
  SetEnvironmentVariableA("SLUICE_CONTROL", endpoint.c_str());
  SetEnvironmentVariableA("SLUICE_PROVIDER_TIMEOUT_MS", "30000");
  const int rc = RUN_ALL_TESTS();
  SetEvent(held);
  service.reset();
  return rc;
}
