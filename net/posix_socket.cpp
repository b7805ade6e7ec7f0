#include "net/posix_socket.h"

#include <fcntl.h>
#include <netinet/tcp.h>
#include <sys/resource.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <system_error>

namespace sluice::net::posix {

void throw_errno(const std::string& what) { throw std::system_error(errno, std::generic_category(), what); }

int open_socket(int family, int type, const std::string& what) {
  const int fd = ::socket(family, type | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0) throw_errno(what);
  return fd;
}

Endpoint local_address(int fd) {
  SocketAddress bound;
  bound.length = sizeof(bound.storage);
  if (::getsockname(fd, reinterpret_cast<sockaddr*>(&bound.storage), &bound.length) != 0) throw_errno("getsockname");
  return from_sockaddr(bound.get(), bound.length).value_or(Endpoint{});
}

void set_no_delay(int fd) {
  // The relay forwards what arrives as it arrives: Nagle on our side would add a
  // delay the application did not ask for.
  const int one = 1;
  ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
}

void set_abortive_close(int fd, bool abortive) {
  const linger close_mode{abortive ? 1 : 0, 0};
  ::setsockopt(fd, SOL_SOCKET, SO_LINGER, &close_mode, sizeof close_mode);
}

void close_with_reset(int fd) {
  set_abortive_close(fd, true);
  ::close(fd);
}

int pending_error(int fd) {
  int error = 0;
  socklen_t length = sizeof error;
  if (::getsockopt(fd, SOL_SOCKET, SO_ERROR, &error, &length) != 0) return errno;
  return error;
}

void raise_descriptor_limit() {
  rlimit limit{};
  if (::getrlimit(RLIMIT_NOFILE, &limit) == 0 && limit.rlim_cur < limit.rlim_max) {
    limit.rlim_cur = limit.rlim_max;
    ::setrlimit(RLIMIT_NOFILE, &limit);
  }
}

}  // namespace sluice::net::posix
