// net/posix_socket: the socket helpers the relay's epoll backend uses, over IPv4
// and IPv6 loopback, and errno turned into std::system_error at the call.
#include "net/posix_socket.h"

#include <fcntl.h>
#include <poll.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <system_error>

namespace sluice::net::posix {
namespace {

class NetPosixSocket : public ::testing::TestWithParam<bool> {
 protected:
  bool ipv6() const { return GetParam(); }
  int family() const { return ipv6() ? AF_INET6 : AF_INET; }
  Endpoint loopback_any_port() const { return Endpoint{loopback(!ipv6()), 0}; }
};

TEST_P(NetPosixSocket, OpensNonBlockingCloseOnExecSockets) {
  const int fd = open_socket(family(), SOCK_STREAM, "test socket");
  EXPECT_NE(::fcntl(fd, F_GETFL) & O_NONBLOCK, 0);
  EXPECT_NE(::fcntl(fd, F_GETFD) & FD_CLOEXEC, 0);
  ::close(fd);
}

TEST_P(NetPosixSocket, LocalAddressIsWhereTheSocketIsBound) {
  const int fd = open_socket(family(), SOCK_DGRAM, "test socket");
  const SocketAddress at = to_sockaddr(loopback_any_port());
  ASSERT_EQ(::bind(fd, at.get(), at.length), 0);
  const Endpoint bound = local_address(fd);
  EXPECT_EQ(bound.ip, loopback(!ipv6()));
  EXPECT_NE(bound.port, 0);
  EXPECT_EQ(pending_error(fd), 0);
  ::close(fd);
}

TEST_P(NetPosixSocket, ARefusedConnectIsThePendingError) {
  // A port bound but not listening refuses at once on loopback (a reset, no wait).
  const int closed_port = open_socket(family(), SOCK_STREAM, "closed port");
  const SocketAddress any = to_sockaddr(loopback_any_port());
  ASSERT_EQ(::bind(closed_port, any.get(), any.length), 0);
  const SocketAddress to = to_sockaddr(local_address(closed_port));
  const int fd = open_socket(family(), SOCK_STREAM, "test socket");
  const int started = ::connect(fd, to.get(), to.length) == 0 ? 0 : errno;
  ASSERT_EQ(started, EINPROGRESS);
  pollfd wait{fd, POLLOUT, 0};
  ASSERT_EQ(::poll(&wait, 1, 5000), 1);  // bounded: refused on loopback at once
  EXPECT_EQ(pending_error(fd), ECONNREFUSED);
  EXPECT_EQ(pending_error(fd), 0);  // read once, then cleared
  ::close(fd);
  ::close(closed_port);
}

TEST(NetPosixSocketErrors, FailuresComeAsSystemErrorsNamingTheCall) {
  try {
    local_address(-1);
    FAIL() << "getsockname on -1 succeeded";
  } catch (const std::system_error& e) {
    EXPECT_EQ(e.code(), std::errc::bad_file_descriptor);
    EXPECT_NE(std::string(e.what()).find("getsockname"), std::string::npos);
  }
}

INSTANTIATE_TEST_SUITE_P(Loopback, NetPosixSocket, ::testing::Values(false, true),
                         [](const auto& info) { return info.param ? "IPv6" : "IPv4"; });

}  // namespace
}  // namespace sluice::net::posix
