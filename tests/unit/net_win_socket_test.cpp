// net/win_socket: the Winsock helpers the relay's IOCP backend and the metrics
// server use, over IPv4 and IPv6 loopback, and Winsock errors turned into
// std::system_error comparable with std::errc.
#include "net/win_socket.h"

#include <gtest/gtest.h>

#include <optional>
#include <string>
#include <system_error>

namespace sluice::net::win {
namespace {

class NetWinSocket : public ::testing::TestWithParam<bool> {
 protected:
  bool ipv6() const { return GetParam(); }
  int family() const { return ipv6() ? AF_INET6 : AF_INET; }
  WinsockSession winsock;
};

TEST_P(NetWinSocket, BoundSocketsReportTheirLocalAddress) {
  Socket socket = open_socket(family(), SOCK_DGRAM, "test socket");
  ASSERT_TRUE(socket.open());
  bind(socket, Endpoint{loopback(!ipv6()), 0}, "bind test socket");
  const Endpoint bound = local_address(socket);
  EXPECT_EQ(bound.ip, loopback(!ipv6()));
  EXPECT_NE(bound.port, 0);
  close(socket);
  EXPECT_FALSE(socket.open());
}

TEST_P(NetWinSocket, ABindThatFailsThrowsNamingIt) {
  Socket first = open_socket(family(), SOCK_STREAM, "first");
  bind(first, Endpoint{loopback(!ipv6()), 0}, "bind first");
  Socket second = open_socket(family(), SOCK_STREAM, "second");
  try {
    bind(second, local_address(first), "bind second");
    FAIL() << "two sockets bound one port";
  } catch (const std::system_error& e) {
    EXPECT_EQ(e.code().value(), WSAEADDRINUSE) << e.what();
    EXPECT_EQ(&e.code().category(), &winsock_category());
    EXPECT_NE(std::string(e.what()).find("bind second"), std::string::npos);
  }
  close(first);
  close(second);
}

// A connected pair of TCP sockets of ours on loopback.
struct StreamPair {
  Socket client, server;
};

StreamPair connected_stream(bool ipv6) {
  const int family = ipv6 ? AF_INET6 : AF_INET;
  Socket listener = open_socket(family, SOCK_STREAM, "listener");
  bind(listener, Endpoint{loopback(!ipv6), 0}, "bind listener");
  EXPECT_EQ(::listen(listener.handle, 1), 0);
  StreamPair pair;
  pair.client = open_socket(family, SOCK_STREAM, "client");
  const SocketAddress to = to_sockaddr(local_address(listener));
  EXPECT_EQ(::connect(pair.client.handle, to.get(), to.length), 0);
  pair.server.handle = ::accept(listener.handle, nullptr, nullptr);
  close(listener);
  return pair;
}

// Waits (bounded) for an overlapped operation started with an event; its bytes.
std::optional<DWORD> finished(const Socket& socket, OVERLAPPED& overlapped) {
  if (WaitForSingleObject(overlapped.hEvent, 5000) != WAIT_OBJECT_0) return std::nullopt;
  DWORD bytes = 0, flags = 0;
  if (!WSAGetOverlappedResult(socket.handle, &overlapped, &bytes, FALSE, &flags)) return std::nullopt;
  return bytes;
}

TEST_P(NetWinSocket, AZeroByteReceiveWaitsForDataThenReadNowTakesWhatIsThere) {
  StreamPair pair = connected_stream(ipv6());
  ASSERT_TRUE(pair.server.open());
  set_non_blocking(pair.client);
  OVERLAPPED overlapped{};
  overlapped.hEvent = WSACreateEvent();
  DWORD flags = 0;
  // Nothing sent yet: it waits (a zero-byte read that completed at once would look
  // like the end of the stream).
  ASSERT_EQ(start_wait_readable(pair.client, &flags, &overlapped).kind, Started::pending);
  EXPECT_EQ(WaitForSingleObject(overlapped.hEvent, 50), static_cast<DWORD>(WAIT_TIMEOUT));
  ASSERT_EQ(::send(pair.server.handle, "hello", 5, 0), 5);
  EXPECT_EQ(finished(pair.client, overlapped), std::optional<DWORD>(0));
  char data[16];
  const ReadNow got = read_now(pair.client, data, sizeof data);
  ASSERT_EQ(got.kind, ReadNow::read);
  EXPECT_EQ(std::string(data, got.bytes), "hello");
  EXPECT_EQ(read_now(pair.client, data, sizeof data).kind, ReadNow::nothing);
  // The end of the stream wakes it too, and reads as 0 bytes.
  WSAResetEvent(overlapped.hEvent);
  ASSERT_NE(start_wait_readable(pair.client, &flags, &overlapped).kind, Started::failed);
  close(pair.server);
  EXPECT_EQ(finished(pair.client, overlapped), std::optional<DWORD>(0));
  const ReadNow end = read_now(pair.client, data, sizeof data);
  EXPECT_EQ(end.kind, ReadNow::read);
  EXPECT_EQ(end.bytes, 0u);
  WSACloseEvent(overlapped.hEvent);
  close(pair.client);
}

// The relay's datagram sockets are connected and send with WSASend: no address.
TEST_P(NetWinSocket, ASendOnAConnectedDatagramSocketGoesToItsPeer) {
  Socket peer = open_socket(family(), SOCK_DGRAM, "peer");
  bind(peer, Endpoint{loopback(!ipv6()), 0}, "bind peer");
  Socket sender = open_socket(family(), SOCK_DGRAM, "sender");
  const SocketAddress to = to_sockaddr(local_address(peer));
  ASSERT_EQ(::connect(sender.handle, to.get(), to.length), 0);
  OVERLAPPED overlapped{};
  overlapped.hEvent = WSACreateEvent();
  const char datagram[] = "one datagram";
  ASSERT_NE(start_send(sender, datagram, sizeof datagram, &overlapped).kind, Started::failed);
  EXPECT_EQ(finished(sender, overlapped), std::optional<DWORD>(sizeof datagram));
  char got[64];
  sockaddr_storage from{};
  int from_length = sizeof from;
  const int n = ::recvfrom(peer.handle, got, sizeof got, 0, reinterpret_cast<sockaddr*>(&from), &from_length);
  ASSERT_EQ(n, static_cast<int>(sizeof datagram));
  EXPECT_EQ(std::string(got, n), std::string(datagram, sizeof datagram));
  EXPECT_EQ(from_sockaddr(reinterpret_cast<sockaddr*>(&from), from_length), std::optional<Endpoint>(local_address(sender)));
  WSACloseEvent(overlapped.hEvent);
  close(sender);
  close(peer);
}

INSTANTIATE_TEST_SUITE_P(Loopback, NetWinSocket, ::testing::Values(false, true),
                         [](const auto& info) { return info.param ? "IPv6" : "IPv4"; });

TEST(NetWinSocketErrors, WinsockCodesCompareWithPortableConditions) {
  const std::error_code refused(WSAECONNREFUSED, winsock_category());
  EXPECT_EQ(refused, std::errc::connection_refused);
  EXPECT_EQ(std::error_code(WSAECONNRESET, winsock_category()), std::errc::connection_reset);
  EXPECT_EQ(std::error_code(ERROR_NETNAME_DELETED, winsock_category()), std::errc::connection_reset);
  EXPECT_NE(error_text(WSAECONNREFUSED).find("10061"), std::string::npos);
}

}  // namespace
}  // namespace sluice::net::win
