// sluice_lsp.dll driven through the SPI as ws2_32 drives it (tests/support/
// spi_harness), against the real service body and its IOCP relay engine: relayed
// TCP and UDP reach echo servers on loopback, blocked destinations fail with the
// documented codes, direct ones pass untouched, relayed datagrams come back from
// the original address, and overlapped operations complete by event, completion
// routine and completion port. Tests named for a seed rule cite it
// (../shared/seeds: LPWSPSENDTO.md, LPWSPSEND.md, WSASendTo.md).
//
// With SLUICE_TEST_SERVICE set to a pipe, the tests use that service (sluiced.exe
// running as a Wine service, tests/wine/lsp_service.sh) instead of their own.

#include <winsock2.h>
#include <mswsock.h>
#include <ws2tcpip.h>
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <cstring>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "common/platform/platform.h"
#include "control/transport/rpc_client.h"
#include "net/socket_address.h"
#include "tests/support/running_service.h"
#include "tests/support/spi_harness.h"
#include "tests/support/temp_dir.h"

namespace sluice::test {
namespace {

using namespace std::chrono_literals;
using protocol::json;

constexpr DWORD kWaitMs = 10'000;

// --- the service and the harness, once per process ---------------------------------

class LspEnvironment : public ::testing::Environment {
 public:
  void SetUp() override {
    endpoint = platform::environment("SLUICE_TEST_SERVICE");
    if (endpoint.empty()) {
      dir = std::make_unique<TempDir>();
      endpoint = unique_endpoint(*dir);
      service = std::make_unique<RunningService>(service::ServiceConfig{dir->file("state"), endpoint, spdlog::level::warn});
    }
    // Read by the LSP when it starts, as a program's environment would be.
    SetEnvironmentVariableA("SLUICE_CONTROL", endpoint.c_str());
    SetEnvironmentVariableA("SLUICE_PROVIDER_TIMEOUT_MS", "5000");  // Wine is slow; nothing here waits on silence
    harness = std::make_unique<SpiHarness>(SLUICE_LSP_DLL);
  }
  void TearDown() override {
    harness.reset();
    service.reset();
    dir.reset();
  }
  std::unique_ptr<TempDir> dir;
  std::string endpoint;
  std::unique_ptr<RunningService> service;
  std::unique_ptr<SpiHarness> harness;
};

LspEnvironment* environment = nullptr;

const WSPPROC_TABLE& lsp() { return environment->harness->lsp(); }

json call(const std::string& method, const json& params) {
  return transport::RpcClient(environment->endpoint, 10s, "lsp_spi_test").call(method, params);
}

void add_rule(const std::string& action, const char* protocol, std::uint16_t port) {
  call("rule.add", {{"rule",
                     {{"app", platform::current_executable()},
                      {"action", action},
                      {"protocol", protocol},
                      {"destinations", {"127.0.0.0/8", "::1/128"}},
                      {"ports", {std::to_string(port)}}}}});
}

// --- addresses and plain sockets (real Winsock, not through the LSP) ----------------

sockaddr_storage loopback(bool ipv6, std::uint16_t port, int& length) {
  auto address = net::parse_endpoint(ipv6 ? "::1" : "127.0.0.1", port);
  sockaddr_storage s{};
  length = net::to_sockaddr(*address, ipv6 ? AF_INET6 : AF_INET, s);
  return s;
}

std::uint16_t port_of(const sockaddr_storage& s, int length) {
  auto address = net::from_sockaddr(reinterpret_cast<const sockaddr*>(&s), length);
  return address ? address->port : 0;
}

std::uint16_t local_port(SOCKET s) {
  sockaddr_storage a{};
  int length = sizeof a;
  getsockname(s, reinterpret_cast<sockaddr*>(&a), &length);
  return port_of(a, length);
}

// An echo server on loopback: TCP (one connection at a time) or UDP, on its own
// thread; remembers the port its last peer came from.
class EchoServer {
 public:
  EchoServer(bool ipv6, int type) : type_(type) {
    socket_ = ::socket(ipv6 ? AF_INET6 : AF_INET, type, 0);
    int length = 0;
    auto address = loopback(ipv6, 0, length);
    EXPECT_EQ(bind(socket_, reinterpret_cast<sockaddr*>(&address), length), 0);
    if (type == SOCK_STREAM) {
      EXPECT_EQ(listen(socket_, 8), 0);
    }
    port_ = local_port(socket_);
    thread_ = std::thread([this] { type_ == SOCK_STREAM ? serve_tcp() : serve_udp(); });
  }
  ~EchoServer() {
    stop_ = true;
    closesocket(socket_);
    thread_.join();
  }
  std::uint16_t port() const { return port_; }
  std::uint16_t last_peer_port() const { return peer_port_; }
  int connections() const { return connections_; }
  std::string received() const {
    std::lock_guard lock(mutex_);
    return received_;
  }

 private:
  void serve_tcp() {
    while (!stop_) {
      sockaddr_storage peer{};
      int length = sizeof peer;
      SOCKET c = accept(socket_, reinterpret_cast<sockaddr*>(&peer), &length);
      if (c == INVALID_SOCKET) return;
      peer_port_ = port_of(peer, length);
      ++connections_;
      char buffer[4096];
      int n;
      while ((n = recv(c, buffer, sizeof buffer, 0)) > 0) {
        {
          std::lock_guard lock(mutex_);
          received_.append(buffer, static_cast<std::size_t>(n));
        }
        send(c, buffer, n, 0);
      }
      closesocket(c);
    }
  }
  void serve_udp() {
    std::vector<char> buffer(70'000);
    while (!stop_) {
      sockaddr_storage peer{};
      int length = sizeof peer;
      const int n = recvfrom(socket_, buffer.data(), static_cast<int>(buffer.size()), 0, reinterpret_cast<sockaddr*>(&peer), &length);
      if (n < 0) {
        if (stop_) return;
        continue;
      }
      peer_port_ = port_of(peer, length);
      {
        std::lock_guard lock(mutex_);
        received_.append(buffer.data(), static_cast<std::size_t>(n));
      }
      sendto(socket_, buffer.data(), n, 0, reinterpret_cast<sockaddr*>(&peer), length);
    }
  }

  int type_;
  SOCKET socket_ = INVALID_SOCKET;
  std::uint16_t port_ = 0;
  std::atomic<bool> stop_{false};
  std::atomic<std::uint16_t> peer_port_{0};
  std::atomic<int> connections_{0};
  mutable std::mutex mutex_;
  std::string received_;
  std::thread thread_;
};

// --- sockets through the LSP --------------------------------------------------------

struct LspSocket {
  SOCKET s = INVALID_SOCKET;
  LspSocket(bool ipv6, int type) {
    int error = 0;
    s = environment->harness->socket(ipv6 ? AF_INET6 : AF_INET, type, &error);
    EXPECT_NE(s, INVALID_SOCKET) << "WSPSocket: " << error;
  }
  ~LspSocket() {
    int error = 0;
    if (s != INVALID_SOCKET) lsp().lpWSPCloseSocket(s, &error);
  }
  operator SOCKET() const { return s; }
};

int lsp_connect(SOCKET s, bool ipv6, std::uint16_t port) {
  int length = 0, error = 0;
  auto address = loopback(ipv6, port, length);
  return lsp().lpWSPConnect(s, reinterpret_cast<sockaddr*>(&address), length, nullptr, nullptr, nullptr, nullptr, &error) == 0
             ? 0
             : error;
}

int lsp_send(SOCKET s, const std::string& data) {
  WSABUF buffer{static_cast<ULONG>(data.size()), const_cast<char*>(data.data())};
  DWORD sent = 0;
  int error = 0;
  return lsp().lpWSPSend(s, &buffer, 1, &sent, 0, nullptr, nullptr, nullptr, &error) == 0 ? 0 : error;
}

int lsp_send_to(SOCKET s, const std::string& data, bool ipv6, std::uint16_t port) {
  int length = 0, error = 0;
  auto address = loopback(ipv6, port, length);
  WSABUF buffer{static_cast<ULONG>(data.size()), const_cast<char*>(data.data())};
  DWORD sent = 0;
  return lsp().lpWSPSendTo(s, &buffer, 1, &sent, 0, reinterpret_cast<sockaddr*>(&address), length, nullptr, nullptr, nullptr,
                           &error) == 0
             ? 0
             : error;
}

// An extension function as WSPIoctl(SIO_GET_EXTENSION_FUNCTION_POINTER) hands it out.
template <class Function>
Function extension(SOCKET s, GUID id) {
  Function function = nullptr;
  DWORD returned = 0;
  int error = 0;
  EXPECT_EQ(lsp().lpWSPIoctl(s, SIO_GET_EXTENSION_FUNCTION_POINTER, &id, sizeof id, &function, sizeof function, &returned,
                             nullptr, nullptr, nullptr, &error), 0) << error;
  return function;
}

bool readable(SOCKET s, DWORD ms = kWaitMs) {
  fd_set set;
  FD_ZERO(&set);
  FD_SET(s, &set);
  timeval timeout{static_cast<long>(ms / 1000), static_cast<long>((ms % 1000) * 1000)};
  int error = 0;
  return lsp().lpWSPSelect(0, &set, nullptr, nullptr, &timeout, &error) == 1;
}

// Reads until `want` bytes arrived (or the stream ended, or nothing came in time).
std::string lsp_read(SOCKET s, std::size_t want) {
  std::string out;
  char buffer[4096];
  while (out.size() < want && readable(s)) {
    WSABUF b{sizeof buffer, buffer};
    DWORD received = 0, flags = 0;
    int error = 0;
    if (lsp().lpWSPRecv(s, &b, 1, &received, &flags, nullptr, nullptr, nullptr, &error) != 0 || received == 0) break;
    out.append(buffer, received);
  }
  return out;
}

// One datagram and where the LSP says it came from.
struct Datagram {
  std::string data;
  std::uint16_t from_port = 0;
  bool from_loopback = false;
};

Datagram lsp_receive_from(SOCKET s) {
  Datagram d;
  if (!readable(s)) return d;
  char buffer[2048];
  WSABUF b{sizeof buffer, buffer};
  DWORD received = 0, flags = 0;
  sockaddr_storage from{};
  int length = sizeof from, error = 0;
  if (lsp().lpWSPRecvFrom(s, &b, 1, &received, &flags, reinterpret_cast<sockaddr*>(&from), &length, nullptr, nullptr, nullptr,
                          &error) != 0) {
    return d;
  }
  d.data.assign(buffer, received);
  d.from_port = port_of(from, length);
  return d;
}

// The echo server's last peer was the relay, not the program's own socket: the
// flow really went through the service (a relay verdict the service could not
// honour would have fallen back to direct under the open fail mode).
void expect_through_relay(SOCKET s, const EchoServer& echo) {
  sockaddr_storage local{};
  int length = sizeof local, error = 0;
  ASSERT_EQ(lsp().lpWSPGetSockName(s, reinterpret_cast<sockaddr*>(&local), &length, &error), 0);
  EXPECT_NE(echo.last_peer_port(), port_of(local, length)) << "the flow did not go through the relay";
}

class LspTest : public ::testing::TestWithParam<bool> {
 protected:
  bool ipv6() const { return GetParam(); }
};

// --- TCP -----------------------------------------------------------------------------

TEST_P(LspTest, RelayedTcpReachesTheEchoServerThroughTheService) {
  EchoServer echo(ipv6(), SOCK_STREAM);
  add_rule("relay", "tcp", echo.port());
  LspSocket s(ipv6(), SOCK_STREAM);
  ASSERT_EQ(lsp_connect(s, ipv6(), echo.port()), 0);
  ASSERT_EQ(lsp_send(s, "through the relay"), 0);
  EXPECT_EQ(lsp_read(s, 17), "through the relay");
  expect_through_relay(s, echo);
  // getpeername reports where the program meant to go.
  sockaddr_storage peer{};
  int length = sizeof peer, error = 0;
  ASSERT_EQ(lsp().lpWSPGetPeerName(s, reinterpret_cast<sockaddr*>(&peer), &length, &error), 0);
  EXPECT_EQ(port_of(peer, length), echo.port());
  // And the service knows the flow.
  const std::string flows = call("flows.list", json::object()).dump();
  EXPECT_NE(flows.find(":" + std::to_string(echo.port())), std::string::npos) << flows;
}

TEST_P(LspTest, BlockedTcpConnectFailsWithConnectionRefused) {
  EchoServer echo(ipv6(), SOCK_STREAM);
  add_rule("block", "tcp", echo.port());
  LspSocket s(ipv6(), SOCK_STREAM);
  EXPECT_EQ(lsp_connect(s, ipv6(), echo.port()), WSAECONNREFUSED);
  std::this_thread::sleep_for(100ms);
  EXPECT_EQ(echo.connections(), 0);
}

TEST_P(LspTest, DirectTcpPassesThroughUntouched) {
  EchoServer echo(ipv6(), SOCK_STREAM);
  add_rule("direct", "tcp", echo.port());
  LspSocket s(ipv6(), SOCK_STREAM);
  ASSERT_EQ(lsp_connect(s, ipv6(), echo.port()), 0);
  ASSERT_EQ(lsp_send(s, "direct"), 0);
  EXPECT_EQ(lsp_read(s, 6), "direct");
  sockaddr_storage local{};
  int length = sizeof local, error = 0;
  lsp().lpWSPGetSockName(s, reinterpret_cast<sockaddr*>(&local), &length, &error);
  EXPECT_EQ(echo.last_peer_port(), port_of(local, length));
}

// LPWSPSENDTO, Remarks: "On a connection-oriented socket, the lpTo and iToLen
// parameters are ignored".
TEST_P(LspTest, SendToIgnoresLpToOnConnectionOrientedSockets) {
  EchoServer echo(ipv6(), SOCK_STREAM);
  EchoServer elsewhere(ipv6(), SOCK_STREAM);
  add_rule("relay", "tcp", echo.port());
  add_rule("block", "tcp", elsewhere.port());
  LspSocket s(ipv6(), SOCK_STREAM);
  ASSERT_EQ(lsp_connect(s, ipv6(), echo.port()), 0);
  EXPECT_EQ(lsp_send_to(s, "ignored lpTo", ipv6(), elsewhere.port()), 0);
  EXPECT_EQ(lsp_read(s, 12), "ignored lpTo");
  expect_through_relay(s, echo);
  EXPECT_EQ(elsewhere.connections(), 0);
}

// LPWSPSENDTO, Remarks: "the service provider guarantees to the client that posted
// buffers are sent in the same order they are supplied".
TEST_P(LspTest, PostedBuffersGoOutInTheOrderSupplied) {
  EchoServer echo(ipv6(), SOCK_STREAM);
  add_rule("relay", "tcp", echo.port());
  LspSocket s(ipv6(), SOCK_STREAM);
  ASSERT_EQ(lsp_connect(s, ipv6(), echo.port()), 0);
  constexpr int kPosts = 16;
  std::vector<std::string> parts;
  std::vector<WSAOVERLAPPED> overlapped(kPosts);
  std::vector<WSABUF> buffers(kPosts);
  std::string expected;
  for (int i = 0; i < kPosts; ++i) parts.push_back("<" + std::to_string(i) + std::string(100 + i, 'a' + i % 26) + ">");
  for (int i = 0; i < kPosts; ++i) {
    overlapped[i] = WSAOVERLAPPED{};
    overlapped[i].hEvent = CreateEventW(nullptr, TRUE, FALSE, nullptr);
    buffers[i] = WSABUF{static_cast<ULONG>(parts[i].size()), parts[i].data()};
    DWORD sent = 0;
    int error = 0;
    const int rc = lsp().lpWSPSend(s, &buffers[i], 1, &sent, 0, &overlapped[i], nullptr, SpiHarness::this_thread(), &error);
    ASSERT_TRUE(rc == 0 || error == WSA_IO_PENDING) << error;
    expected += parts[i];
  }
  for (auto& o : overlapped) {
    EXPECT_EQ(WaitForSingleObject(o.hEvent, kWaitMs), WAIT_OBJECT_0);
    CloseHandle(o.hEvent);
  }
  EXPECT_EQ(lsp_read(s, expected.size()), expected);
  expect_through_relay(s, echo);
}

TEST_P(LspTest, ConnectExHandedOutByWSPIoctlGoesThroughTheRelay) {
  EchoServer echo(ipv6(), SOCK_STREAM);
  add_rule("relay", "tcp", echo.port());
  LspSocket s(ipv6(), SOCK_STREAM);
  auto connect_ex = extension<LPFN_CONNECTEX>(s, WSAID_CONNECTEX);
  ASSERT_NE(connect_ex, nullptr);
  int error = 0;
  int length = 0;
  auto any = loopback(ipv6(), 0, length);
  std::memset(ipv6() ? static_cast<void*>(&reinterpret_cast<sockaddr_in6*>(&any)->sin6_addr)
                     : static_cast<void*>(&reinterpret_cast<sockaddr_in*>(&any)->sin_addr), 0, ipv6() ? 16 : 4);
  ASSERT_EQ(lsp().lpWSPBind(s, reinterpret_cast<sockaddr*>(&any), length, &error), 0);  // ConnectEx wants a bound socket
  auto target = loopback(ipv6(), echo.port(), length);
  WSAOVERLAPPED o{};
  o.hEvent = CreateEventW(nullptr, TRUE, FALSE, nullptr);
  DWORD sent = 0;
  if (!connect_ex(s, reinterpret_cast<sockaddr*>(&target), length, nullptr, 0, &sent, &o)) {
    ASSERT_EQ(WSAGetLastError(), WSA_IO_PENDING);
  }
  ASSERT_EQ(WaitForSingleObject(o.hEvent, kWaitMs), WAIT_OBJECT_0);
  DWORD bytes = 0, flags = 0;
  EXPECT_TRUE(lsp().lpWSPGetOverlappedResult(s, &o, &bytes, FALSE, &flags, &error)) << error;
  CloseHandle(o.hEvent);
  ASSERT_EQ(lsp_send(s, "connectex"), 0);
  EXPECT_EQ(lsp_read(s, 9), "connectex");
  expect_through_relay(s, echo);
}

// --- UDP -----------------------------------------------------------------------------

TEST_P(LspTest, RelayedUdpRepliesCarryTheOriginalSourceAddress) {
  EchoServer echo(ipv6(), SOCK_DGRAM);
  add_rule("relay", "udp", echo.port());
  LspSocket s(ipv6(), SOCK_DGRAM);
  ASSERT_EQ(lsp_send_to(s, "datagram", ipv6(), echo.port()), 0);
  const Datagram reply = lsp_receive_from(s);
  EXPECT_EQ(reply.data, "datagram");
  EXPECT_EQ(reply.from_port, echo.port());
  expect_through_relay(s, echo);
}

// A relayed UDP socket's association dies with the service process that opened it
// (provider/core/steering.h): once the LSP sees the service gone, the next datagram
// fails once, with what Winsock says of a datagram that met a closed port, and the
// first one after the service is back is a new flow through it.
TEST_P(LspTest, ARelayedAssociationLostWithTheServiceFailsTheNextDatagramOnceThenRegistersAgain) {
  if (!environment->service) GTEST_SKIP() << "SLUICE_TEST_SERVICE: the service is not this test's to stop";
  EchoServer echo(ipv6(), SOCK_DGRAM);
  add_rule("relay", "udp", echo.port());
  LspSocket s(ipv6(), SOCK_DGRAM);
  ASSERT_EQ(lsp_send_to(s, "before", ipv6(), echo.port()), 0);
  ASSERT_EQ(lsp_receive_from(s).data, "before");

  environment->service.reset();  // its associations end with it
  // The LSP looks at the service at most every 100 ms: datagrams sent before it has
  // looked are lost, as they would be on the wire. Bounded: 60 tries, 3 s.
  int error = 0;
  for (int attempt = 0; attempt < 60 && error == 0; ++attempt) {
    error = lsp_send_to(s, "lost", ipv6(), echo.port());
    if (error == 0) std::this_thread::sleep_for(50ms);
  }
  EXPECT_EQ(error, WSAECONNRESET) << "the lost association was never reported";

  environment->service = std::make_unique<RunningService>(
      service::ServiceConfig{environment->dir->file("state"), environment->endpoint, spdlog::level::warn});
  ASSERT_EQ(lsp_send_to(s, "after", ipv6(), echo.port()), 0) << "failed once, not for good";
  EXPECT_EQ(lsp_receive_from(s).data, "after");
  expect_through_relay(s, echo);
}

TEST_P(LspTest, BlockedDatagramFailsWithWSAEACCES) {
  EchoServer echo(ipv6(), SOCK_DGRAM);
  add_rule("block", "udp", echo.port());
  LspSocket s(ipv6(), SOCK_DGRAM);
  EXPECT_EQ(lsp_send_to(s, "blocked", ipv6(), echo.port()), WSAEACCES);
  std::this_thread::sleep_for(100ms);
  EXPECT_EQ(echo.received(), "");
}

TEST_P(LspTest, DirectDatagramPassesThroughUntouched) {
  EchoServer echo(ipv6(), SOCK_DGRAM);
  add_rule("direct", "udp", echo.port());
  LspSocket s(ipv6(), SOCK_DGRAM);
  ASSERT_EQ(lsp_send_to(s, "direct", ipv6(), echo.port()), 0);
  const Datagram reply = lsp_receive_from(s);
  EXPECT_EQ(reply.data, "direct");
  sockaddr_storage local{};
  int length = sizeof local, error = 0;
  lsp().lpWSPGetSockName(s, reinterpret_cast<sockaddr*>(&local), &length, &error);
  EXPECT_EQ(echo.last_peer_port(), port_of(local, length));
}

// LPWSPSENDTO, Remarks: "If the data is too long to pass atomically through the
// underlying protocol the error WSAEMSGSIZE is returned, and no data is transmitted."
TEST_P(LspTest, OversizedDatagramFailsWithWSAEMSGSIZEAndSendsNothing) {
  EchoServer echo(ipv6(), SOCK_DGRAM);
  add_rule("relay", "udp", echo.port());
  LspSocket s(ipv6(), SOCK_DGRAM);
  EXPECT_EQ(lsp_send_to(s, std::string(70'000, 'x'), ipv6(), echo.port()), WSAEMSGSIZE);
  ASSERT_EQ(lsp_send_to(s, "after", ipv6(), echo.port()), 0);
  EXPECT_EQ(lsp_receive_from(s).data, "after");
  EXPECT_EQ(echo.received(), "after");
  expect_through_relay(s, echo);
}

// LPWSPSENDTO, Return value: "WSAEACCES: Requested address is a broadcast address,
// but the appropriate flag was not set."
TEST(LspBroadcastTest, BroadcastWithoutSoBroadcastFailsWithWSAEACCES) {
  LspSocket s(false, SOCK_DGRAM);
  sockaddr_in broadcast{};
  broadcast.sin_family = AF_INET;
  broadcast.sin_port = htons(9);
  broadcast.sin_addr.s_addr = INADDR_BROADCAST;
  char data[] = "x";
  WSABUF b{1, data};
  DWORD sent = 0;
  int error = 0;
  EXPECT_EQ(lsp().lpWSPSendTo(s, &b, 1, &sent, 0, reinterpret_cast<sockaddr*>(&broadcast), sizeof broadcast, nullptr, nullptr,
                              nullptr, &error), SOCKET_ERROR);
  EXPECT_EQ(error, WSAEACCES);
}

TEST_P(LspTest, WSASendMsgHandedOutByWSPIoctlIsRelayed) {
  EchoServer echo(ipv6(), SOCK_DGRAM);
  add_rule("relay", "udp", echo.port());
  LspSocket s(ipv6(), SOCK_DGRAM);
  auto send_msg = extension<LPFN_WSASENDMSG>(s, WSAID_WSASENDMSG);
  ASSERT_NE(send_msg, nullptr);
  int length = 0;
  auto target = loopback(ipv6(), echo.port(), length);
  char data[] = "sendmsg";
  WSABUF b{7, data};
  WSAMSG message{};
  message.name = reinterpret_cast<sockaddr*>(&target);
  message.namelen = length;
  message.lpBuffers = &b;
  message.dwBufferCount = 1;
  DWORD sent = 0;
  ASSERT_EQ(send_msg(s, &message, 0, &sent, nullptr, nullptr), 0) << WSAGetLastError();
  const Datagram reply = lsp_receive_from(s);
  EXPECT_EQ(reply.data, "sendmsg");
  EXPECT_EQ(reply.from_port, echo.port());
  expect_through_relay(s, echo);
}

// --- overlapped completion: event, routine, port -----------------------------------

// The state of one overlapped receive-from the LSP reports on.
struct OverlappedReceive {
  WSAOVERLAPPED overlapped{};
  char buffer[256] = {};
  WSABUF wsabuf{sizeof buffer, buffer};
  sockaddr_storage from{};
  int from_length = sizeof from;
  DWORD flags = 0;
  DWORD received = 0xdeadbeef;  // the seeds say: not updated when pending

  int post(SOCKET s, LPWSAOVERLAPPED_COMPLETION_ROUTINE routine = nullptr) {
    int error = 0;
    const int rc = lsp().lpWSPRecvFrom(s, &wsabuf, 1, &received, &flags, reinterpret_cast<sockaddr*>(&from), &from_length,
                                       &overlapped, routine, SpiHarness::this_thread(), &error);
    return rc == 0 ? 0 : error;
  }
};

TEST_P(LspTest, OverlappedReceiveCompletesByEventWithTheOriginalSource) {
  EchoServer echo(ipv6(), SOCK_DGRAM);
  add_rule("relay", "udp", echo.port());
  LspSocket s(ipv6(), SOCK_DGRAM);
  ASSERT_EQ(lsp_send_to(s, "first", ipv6(), echo.port()), 0);  // registers the flow and binds
  ASSERT_EQ(lsp_receive_from(s).data, "first");
  OverlappedReceive r;
  r.overlapped.hEvent = CreateEventW(nullptr, TRUE, FALSE, nullptr);
  // LPWSPSENDTO, Return value: WSA_IO_PENDING, and "lpNumberOfBytesSent is not updated".
  ASSERT_EQ(r.post(s), WSA_IO_PENDING);
  EXPECT_EQ(r.received, 0xdeadbeefu);
  ASSERT_EQ(lsp_send_to(s, "by event", ipv6(), echo.port()), 0);
  ASSERT_EQ(WaitForSingleObject(r.overlapped.hEvent, kWaitMs), WAIT_OBJECT_0);
  DWORD bytes = 0, flags = 0;
  int error = 0;
  ASSERT_TRUE(lsp().lpWSPGetOverlappedResult(s, &r.overlapped, &bytes, FALSE, &flags, &error)) << error;
  EXPECT_EQ(bytes, 8u);
  EXPECT_EQ(std::string(r.buffer, bytes), "by event");
  EXPECT_EQ(port_of(r.from, r.from_length), echo.port());
  expect_through_relay(s, echo);
  CloseHandle(r.overlapped.hEvent);
}

struct RoutineResult {
  std::atomic<int> calls{0};
  DWORD error = 0, bytes = 0;
};
RoutineResult routine_result;

void CALLBACK record_routine(DWORD error, DWORD bytes, LPWSAOVERLAPPED, DWORD) {
  routine_result.error = error;
  routine_result.bytes = bytes;
  ++routine_result.calls;
}

// LPWSPSENDTO, Remarks: the completion routine runs on the thread that started the
// operation, through WPUQueueApc, when that thread waits alertably.
TEST_P(LspTest, OverlappedReceiveCompletesByCompletionRoutine) {
  EchoServer echo(ipv6(), SOCK_DGRAM);
  add_rule("relay", "udp", echo.port());
  LspSocket s(ipv6(), SOCK_DGRAM);
  ASSERT_EQ(lsp_send_to(s, "first", ipv6(), echo.port()), 0);
  ASSERT_EQ(lsp_receive_from(s).data, "first");
  routine_result.calls = 0;
  OverlappedReceive r;
  ASSERT_EQ(r.post(s, record_routine), WSA_IO_PENDING);
  ASSERT_EQ(lsp_send_to(s, "by routine", ipv6(), echo.port()), 0);
  for (int i = 0; i < 100 && routine_result.calls == 0; ++i) SleepEx(100, TRUE);
  ASSERT_EQ(routine_result.calls, 1);
  EXPECT_EQ(routine_result.error, 0u);
  EXPECT_EQ(routine_result.bytes, 10u);
  EXPECT_EQ(std::string(r.buffer, routine_result.bytes), "by routine");
  EXPECT_EQ(port_of(r.from, r.from_length), echo.port());
  expect_through_relay(s, echo);
}

TEST_P(LspTest, OverlappedReceiveCompletesByCompletionPort) {
  EchoServer echo(ipv6(), SOCK_DGRAM);
  add_rule("relay", "udp", echo.port());
  LspSocket s(ipv6(), SOCK_DGRAM);
  HANDLE port = CreateIoCompletionPort(INVALID_HANDLE_VALUE, nullptr, 0, 1);
  ASSERT_TRUE(SpiHarness::associate(s, port, 77));
  ASSERT_EQ(lsp_send_to(s, "first", ipv6(), echo.port()), 0);
  ASSERT_EQ(lsp_receive_from(s).data, "first");
  OverlappedReceive r;
  ASSERT_EQ(r.post(s), WSA_IO_PENDING);
  ASSERT_EQ(lsp_send_to(s, "by port", ipv6(), echo.port()), 0);
  DWORD bytes = 0;
  ULONG_PTR key = 0;
  OVERLAPPED* done = nullptr;
  ASSERT_TRUE(GetQueuedCompletionStatus(port, &bytes, &key, &done, kWaitMs));
  EXPECT_EQ(done, &r.overlapped);
  EXPECT_EQ(key, 77u);
  EXPECT_EQ(bytes, 7u);
  EXPECT_EQ(std::string(r.buffer, bytes), "by port");
  EXPECT_EQ(port_of(r.from, r.from_length), echo.port());
  expect_through_relay(s, echo);
  CloseHandle(port);
}

// LPWSPSENDTO, Return value: "If no error occurs and the ... operation has completed
// immediately, LPWSPSendTo returns zero. Note that in this case the completion
// routine, if specified, will have already been queued." An overlapped send that
// completes at once returns 0 with the byte count; its completion is already there.
TEST_P(LspTest, ImmediateCompletionReturnsZeroWithTheCountAndTheCompletionQueued) {
  EchoServer echo(ipv6(), SOCK_DGRAM);
  add_rule("relay", "udp", echo.port());
  LspSocket s(ipv6(), SOCK_DGRAM);
  HANDLE port = CreateIoCompletionPort(INVALID_HANDLE_VALUE, nullptr, 0, 1);
  ASSERT_TRUE(SpiHarness::associate(s, port, 5));
  int length = 0;
  auto target = loopback(ipv6(), echo.port(), length);
  int immediate = 0;
  for (int i = 0; i < 20; ++i) {
    char data[] = "immediate";
    WSABUF b{9, data};
    WSAOVERLAPPED o{};
    DWORD sent = 0xdeadbeef;
    int error = 0;
    const int rc = lsp().lpWSPSendTo(s, &b, 1, &sent, 0, reinterpret_cast<sockaddr*>(&target), length, &o, nullptr,
                                     SpiHarness::this_thread(), &error);
    DWORD bytes = 0;
    ULONG_PTR key = 0;
    OVERLAPPED* done = nullptr;
    if (rc == 0) {
      ++immediate;
      EXPECT_EQ(sent, 9u);
      // Already queued: a zero wait finds it.
      ASSERT_TRUE(GetQueuedCompletionStatus(port, &bytes, &key, &done, 0));
    } else {
      ASSERT_EQ(error, WSA_IO_PENDING);
      EXPECT_EQ(sent, 0xdeadbeefu);
      ASSERT_TRUE(GetQueuedCompletionStatus(port, &bytes, &key, &done, kWaitMs));
    }
    EXPECT_EQ(done, &o);
    EXPECT_EQ(bytes, 9u);
  }
  EXPECT_GT(immediate, 0) << "no send completed at once: the rule was not exercised";
  expect_through_relay(s, echo);
  CloseHandle(port);
}

// LPWSPSENDTO, Remarks: "The array of WSABUF structures pointed to by the lpBuffers
// parameter is transient. If this operation completes in an overlapped manner, it is
// the service provider's responsibility to capture these WSABUF structures before
// returning from this call."
TEST_P(LspTest, TheWsabufArrayIsCapturedBeforeTheCallReturns) {
  EchoServer echo(ipv6(), SOCK_STREAM);
  add_rule("relay", "tcp", echo.port());
  LspSocket s(ipv6(), SOCK_STREAM);
  ASSERT_EQ(lsp_connect(s, ipv6(), echo.port()), 0);
  std::string payload(64 * 1024, 'p');
  char decoy[] = "decoy";
  WSAOVERLAPPED o{};
  o.hEvent = CreateEventW(nullptr, TRUE, FALSE, nullptr);
  {
    WSABUF on_stack[1] = {{static_cast<ULONG>(payload.size()), payload.data()}};
    DWORD sent = 0;
    int error = 0;
    const int rc = lsp().lpWSPSend(s, on_stack, 1, &sent, 0, &o, nullptr, SpiHarness::this_thread(), &error);
    ASSERT_TRUE(rc == 0 || error == WSA_IO_PENDING) << error;
    on_stack[0] = WSABUF{5, decoy};  // the program reuses its stack array at once
  }
  ASSERT_EQ(WaitForSingleObject(o.hEvent, kWaitMs), WAIT_OBJECT_0);
  CloseHandle(o.hEvent);
  EXPECT_EQ(lsp_read(s, payload.size()), payload);
  expect_through_relay(s, echo);
}

// WSPAsyncSelect: the messages name the program's handle, not the lower socket's.
TEST_P(LspTest, AsyncSelectPostsMessagesWithTheProgramsHandle) {
  EchoServer echo(ipv6(), SOCK_DGRAM);
  add_rule("relay", "udp", echo.port());
  LspSocket s(ipv6(), SOCK_DGRAM);
  const auto window = reinterpret_cast<HWND>(static_cast<ULONG_PTR>(0x5100 + (ipv6() ? 6 : 4)));
  int error = 0;
  ASSERT_EQ(lsp().lpWSPAsyncSelect(s, window, WM_USER + 7, FD_READ, &error), 0) << error;
  ASSERT_EQ(lsp_send_to(s, "async", ipv6(), echo.port()), 0);
  auto delivered = [&] {
    for (const auto& m : SpiHarness::posted_messages()) {
      if (m.window == window && m.message == WM_USER + 7 && m.wparam == s && WSAGETSELECTEVENT(m.lparam) == FD_READ &&
          WSAGETSELECTERROR(m.lparam) == 0) {
        return true;
      }
    }
    return false;
  };
  for (int i = 0; i < 100 && !delivered(); ++i) std::this_thread::sleep_for(50ms);
  EXPECT_TRUE(delivered());
  EXPECT_EQ(lsp_receive_from(s).from_port, echo.port());
  ASSERT_EQ(lsp().lpWSPAsyncSelect(s, window, 0, 0, &error), 0) << error;
}

// LPWSPSENDTO, Return value: "WSA_OPERATION_ABORTED: Overlapped operation has been
// canceled due to the closure of the socket". The program still hears of it.
TEST_P(LspTest, ClosingTheSocketCompletesItsPendingOperationsAsAborted) {
  routine_result.calls = 0;
  const int before = SpiHarness::open_handles();
  {
    LspSocket s(ipv6(), SOCK_DGRAM);
    int length = 0, error = 0;
    auto any = loopback(ipv6(), 0, length);
    ASSERT_EQ(lsp().lpWSPBind(s, reinterpret_cast<sockaddr*>(&any), length, &error), 0);
    OverlappedReceive r;
    ASSERT_EQ(r.post(s, record_routine), WSA_IO_PENDING);
    ASSERT_EQ(lsp().lpWSPCloseSocket(s, &error), 0);
    s.s = INVALID_SOCKET;
    for (int i = 0; i < 100 && routine_result.calls == 0; ++i) SleepEx(100, TRUE);
    ASSERT_EQ(routine_result.calls, 1);
    EXPECT_EQ(routine_result.error, static_cast<DWORD>(WSA_OPERATION_ABORTED));
  }
  // The handle goes once the LSP's thread has let go of the operation, which may be
  // just after the routine ran on ours.
  for (int i = 0; i < 100 && SpiHarness::open_handles() != before; ++i) std::this_thread::sleep_for(50ms);
  EXPECT_EQ(SpiHarness::open_handles(), before);
}

TEST_P(LspTest, ClosingSocketsLeavesNoHandlesBehind) {
  const int before = SpiHarness::open_handles();
  {
    LspSocket a(ipv6(), SOCK_STREAM), b(ipv6(), SOCK_DGRAM);
    EXPECT_EQ(SpiHarness::open_handles(), before + 2);
  }
  EXPECT_EQ(SpiHarness::open_handles(), before);
}

INSTANTIATE_TEST_SUITE_P(Families, LspTest, ::testing::Values(false, true),
                         [](const auto& info) { return info.param ? std::string("IPv6") : std::string("IPv4"); });

}  // namespace
}  // namespace sluice::test

int main(int argc, char** argv) {
  ::testing::InitGoogleTest(&argc, argv);
  sluice::test::environment = new sluice::test::LspEnvironment();
  ::testing::AddGlobalTestEnvironment(sluice::test::environment);
  return RUN_ALL_TESTS();
}
