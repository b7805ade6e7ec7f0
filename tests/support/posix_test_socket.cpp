#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <utility>

#include "tests/support/test_socket.h"
#include "tests/support/test_socket_address.h"

namespace sluice::test {

namespace {

int fd_of(const Socket& socket) { return static_cast<int>(socket.handle()); }

std::error_code last_error() { return std::error_code(errno, std::generic_category()); }

std::error_code result(int rc) { return rc == 0 ? std::error_code() : last_error(); }

Socket open(bool ipv6, int type, std::error_code* error) {
  const int fd = ::socket(ipv6 ? AF_INET6 : AF_INET, type | SOCK_CLOEXEC, 0);
  if (fd < 0 && error) *error = last_error();
  return Socket(fd);
}

IoResult io_result(ssize_t n) {
  if (n < 0) return IoResult{0, last_error()};
  return IoResult{static_cast<std::size_t>(n), {}};
}

}  // namespace

Socket& Socket::operator=(Socket&& other) noexcept {
  if (this != &other) {
    close();
    handle_ = std::exchange(other.handle_, kInvalid);
  }
  return *this;
}

void Socket::close() {
  if (valid()) ::close(static_cast<int>(handle_));
  handle_ = kInvalid;
}

void start_sockets() {}

bool ipv6_loopback_available() {
  Socket probe = udp_socket(true);
  return probe.valid() && !bind(probe, Endpoint{"::1", 0});
}

Socket tcp_socket(bool ipv6, std::error_code* error) { return open(ipv6, SOCK_STREAM, error); }

Socket udp_socket(bool ipv6, std::error_code* error) { return open(ipv6, SOCK_DGRAM, error); }

std::error_code bind(const Socket& socket, const Endpoint& at) {
  sockaddr_storage address;
  const socklen_t length = to_sockaddr(at, address);
  if (length == 0) return std::make_error_code(std::errc::invalid_argument);
  return result(::bind(fd_of(socket), reinterpret_cast<sockaddr*>(&address), length));
}

std::error_code listen(const Socket& socket, int backlog) { return result(::listen(fd_of(socket), backlog)); }

std::error_code connect(const Socket& socket, const Endpoint& to) {
  sockaddr_storage address;
  const socklen_t length = to_sockaddr(to, address);
  if (length == 0) return std::make_error_code(std::errc::invalid_argument);
  return result(::connect(fd_of(socket), reinterpret_cast<sockaddr*>(&address), length));
}

Socket accept(const Socket& listener) { return Socket(::accept4(fd_of(listener), nullptr, nullptr, SOCK_CLOEXEC)); }

Endpoint local_endpoint(const Socket& socket) {
  sockaddr_storage address{};
  socklen_t length = sizeof address;
  if (::getsockname(fd_of(socket), reinterpret_cast<sockaddr*>(&address), &length) != 0) return {};
  return from_sockaddr(address);
}

bool readable(const Socket& socket, int timeout_ms) {
  pollfd p{fd_of(socket), POLLIN, 0};
  return ::poll(&p, 1, timeout_ms) == 1;
}

IoResult recv(const Socket& socket, char* buffer, std::size_t size) { return io_result(::recv(fd_of(socket), buffer, size, 0)); }

IoResult send(const Socket& socket, const std::string& data) {
  std::size_t sent = 0;
  while (sent < data.size()) {
    const ssize_t n = ::send(fd_of(socket), data.data() + sent, data.size() - sent, MSG_NOSIGNAL);
    if (n < 0) return IoResult{sent, last_error()};
    sent += static_cast<std::size_t>(n);
  }
  return IoResult{sent, {}};
}

IoResult send_without_waiting(const Socket& socket, const std::string& data) {
  return io_result(::send(fd_of(socket), data.data(), data.size(), MSG_DONTWAIT | MSG_NOSIGNAL));
}

std::error_code shutdown_send(const Socket& socket) { return result(::shutdown(fd_of(socket), SHUT_WR)); }

void close_with_reset(Socket& socket) {
  const linger abort_close{1, 0};
  ::setsockopt(fd_of(socket), SOL_SOCKET, SO_LINGER, &abort_close, sizeof abort_close);
  socket.close();
}

IoResult send_to(const Socket& socket, const std::string& data, const Endpoint& to) {
  sockaddr_storage address;
  const socklen_t length = to_sockaddr(to, address);
  if (length == 0) return IoResult{0, std::make_error_code(std::errc::invalid_argument)};
  return io_result(::sendto(fd_of(socket), data.data(), data.size(), 0, reinterpret_cast<sockaddr*>(&address), length));
}

IoResult recv_from(const Socket& socket, char* buffer, std::size_t size, Endpoint& from) {
  sockaddr_storage address{};
  socklen_t length = sizeof address;
  const ssize_t n = ::recvfrom(fd_of(socket), buffer, size, 0, reinterpret_cast<sockaddr*>(&address), &length);
  if (n >= 0) from = from_sockaddr(address);
  return io_result(n);
}

}  // namespace sluice::test
