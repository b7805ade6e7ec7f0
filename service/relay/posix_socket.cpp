#include "service/relay/posix_socket.h"

#include <fcntl.h>
#include <netinet/tcp.h>
#include <sys/resource.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <system_error>

#include "service/policy/address.h"

namespace sluice::relay::posix {

SocketAddress to_sockaddr(const Address& address, bool for_ipv6_socket) {
  SocketAddress out;
  if (policy::is_ipv4(address.ip) && !for_ipv6_socket) {
    auto* in = reinterpret_cast<sockaddr_in*>(&out.storage);
    in->sin_family = AF_INET;
    in->sin_port = htons(address.port);
    std::memcpy(&in->sin_addr, address.ip.bytes.data() + 12, 4);
    out.length = sizeof(sockaddr_in);
  } else {
    auto* in6 = reinterpret_cast<sockaddr_in6*>(&out.storage);
    in6->sin6_family = AF_INET6;
    in6->sin6_port = htons(address.port);
    std::memcpy(&in6->sin6_addr, address.ip.bytes.data(), 16);
    out.length = sizeof(sockaddr_in6);
  }
  return out;
}

Address from_sockaddr(const sockaddr* address, socklen_t length) {
  Address out;
  if (address->sa_family == AF_INET && length >= static_cast<socklen_t>(sizeof(sockaddr_in))) {
    const auto* in = reinterpret_cast<const sockaddr_in*>(address);
    const auto* b = reinterpret_cast<const std::uint8_t*>(&in->sin_addr);
    out.ip = policy::ipv4(b[0], b[1], b[2], b[3]);
    out.port = ntohs(in->sin_port);
  } else if (address->sa_family == AF_INET6 && length >= static_cast<socklen_t>(sizeof(sockaddr_in6))) {
    const auto* in6 = reinterpret_cast<const sockaddr_in6*>(address);
    std::memcpy(out.ip.bytes.data(), &in6->sin6_addr, 16);
    out.port = ntohs(in6->sin6_port);
  }
  return out;
}

bool is_unspecified(const policy::IpAddress& ip) { return ip == policy::IpAddress{} || ip == policy::ipv4(0, 0, 0, 0); }

bool is_ipv4_family(const Address& address) { return policy::is_ipv4(address.ip); }

void throw_errno(const std::string& what) { throw std::system_error(errno, std::generic_category(), what); }

int open_socket(int family, int type, const std::string& what) {
  const int fd = ::socket(family, type | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0) throw_errno(what);
  return fd;
}

Address local_address(int fd) {
  SocketAddress bound;
  bound.length = sizeof(bound.storage);
  if (::getsockname(fd, reinterpret_cast<sockaddr*>(&bound.storage), &bound.length) != 0) throw_errno("getsockname");
  return from_sockaddr(bound.get(), bound.length);
}

void set_no_delay(int fd) {
  // The relay forwards what arrives as it arrives: Nagle on our side would add a
  // delay the application did not ask for.
  const int one = 1;
  ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
}

void close_with_reset(int fd) {
  const linger abort_close{1, 0};
  ::setsockopt(fd, SOL_SOCKET, SO_LINGER, &abort_close, sizeof abort_close);
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

}  // namespace sluice::relay::posix
