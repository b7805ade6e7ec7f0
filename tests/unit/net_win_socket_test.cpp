// net/win_socket: the Winsock helpers the relay's IOCP backend and the metrics
// server use, over IPv4 and IPv6 loopback, and Winsock errors turned into
// std::system_error comparable with std::errc.
#include "net/win_socket.h"

#include <gtest/gtest.h>

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
