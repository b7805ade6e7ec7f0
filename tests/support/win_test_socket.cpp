#include <winsock2.h>
#include <ws2tcpip.h>
#include <windows.h>

#include <cstring>
#include <mutex>
#include <utility>

#include "tests/support/test_socket.h"
#include "tests/support/test_socket_address.h"

namespace sluice::test {

namespace {

SOCKET handle_of(const Socket& socket) { return static_cast<SOCKET>(socket.handle()); }

// Winsock's codes as the portable conditions the tests compare with.
std::error_code to_error(int code) {
  switch (code) {
    case 0: return {};
    case WSAECONNRESET: return std::make_error_code(std::errc::connection_reset);
    case WSAECONNABORTED: return std::make_error_code(std::errc::connection_aborted);
    case WSAECONNREFUSED: return std::make_error_code(std::errc::connection_refused);
    case WSAEWOULDBLOCK: return std::make_error_code(std::errc::operation_would_block);
    case WSAETIMEDOUT: return std::make_error_code(std::errc::timed_out);
    case WSAEADDRNOTAVAIL: return std::make_error_code(std::errc::address_not_available);
    case WSAEADDRINUSE: return std::make_error_code(std::errc::address_in_use);
    case WSAEAFNOSUPPORT: return std::make_error_code(std::errc::address_family_not_supported);
    case WSAENOTCONN: return std::make_error_code(std::errc::not_connected);
    case WSAESHUTDOWN: return std::make_error_code(std::errc::broken_pipe);
    case WSAEMSGSIZE: return std::make_error_code(std::errc::message_size);
    case WSAEINVAL: return std::make_error_code(std::errc::invalid_argument);
    default: return std::error_code(code, std::system_category());
  }
}

std::error_code last_error() { return to_error(WSAGetLastError()); }

std::error_code result(int rc) { return rc == 0 ? std::error_code() : last_error(); }

Socket open(bool ipv6, int type, std::error_code* error) {
  start_sockets();
  const SOCKET s = ::socket(ipv6 ? AF_INET6 : AF_INET, type, type == SOCK_STREAM ? IPPROTO_TCP : IPPROTO_UDP);
  if (s == INVALID_SOCKET && error) *error = last_error();
  return Socket(static_cast<std::intptr_t>(s));
}

IoResult io_result(int n) {
  if (n == SOCKET_ERROR) return IoResult{0, last_error()};
  return IoResult{static_cast<std::size_t>(n), {}};
}

void set_blocking(const Socket& socket, bool blocking) {
  u_long non_blocking = blocking ? 0 : 1;
  ::ioctlsocket(handle_of(socket), FIONBIO, &non_blocking);
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
  if (valid()) ::closesocket(static_cast<SOCKET>(handle_));
  handle_ = kInvalid;
}

void start_sockets() {
  // Started once and left running: sockets of the test outlive any one test.
  static std::once_flag once;
  std::call_once(once, [] {
    WSADATA data;
    WSAStartup(MAKEWORD(2, 2), &data);
  });
}

bool ipv6_loopback_available() {
  Socket probe = udp_socket(true);
  return probe.valid() && !bind(probe, Endpoint{"::1", 0});
}

Socket tcp_socket(bool ipv6, std::error_code* error) { return open(ipv6, SOCK_STREAM, error); }

Socket udp_socket(bool ipv6, std::error_code* error) { return open(ipv6, SOCK_DGRAM, error); }

std::error_code bind(const Socket& socket, const Endpoint& at) {
  sockaddr_storage address;
  const int length = to_sockaddr(at, address);
  if (length == 0) return std::make_error_code(std::errc::invalid_argument);
  return result(::bind(handle_of(socket), reinterpret_cast<sockaddr*>(&address), length));
}

std::error_code listen(const Socket& socket, int backlog) { return result(::listen(handle_of(socket), backlog)); }

std::error_code connect(const Socket& socket, const Endpoint& to) {
  sockaddr_storage address;
  const int length = to_sockaddr(to, address);
  if (length == 0) return std::make_error_code(std::errc::invalid_argument);
  return result(::connect(handle_of(socket), reinterpret_cast<sockaddr*>(&address), length));
}

Socket accept(const Socket& listener) {
  return Socket(static_cast<std::intptr_t>(::accept(handle_of(listener), nullptr, nullptr)));
}

Endpoint local_endpoint(const Socket& socket) {
  sockaddr_storage address{};
  int length = sizeof address;
  if (::getsockname(handle_of(socket), reinterpret_cast<sockaddr*>(&address), &length) != 0) return {};
  return from_sockaddr(address);
}

bool readable(const Socket& socket, int timeout_ms) {
  WSAPOLLFD p{handle_of(socket), POLLRDNORM, 0};
  return ::WSAPoll(&p, 1, timeout_ms) == 1;
}

IoResult recv(const Socket& socket, char* buffer, std::size_t size) {
  const IoResult r = io_result(::recv(handle_of(socket), buffer, static_cast<int>(size), 0));
  if (!r.error && r.bytes == 0 && size > 0) {
    // The end of the stream: a FIN, or a reset. Windows fails this recv with
    // WSAECONNRESET after a reset; Wine 8 does so only for a recv already waiting
    // when the reset arrives (its server takes the socket's error first, and a later
    // recv reads a plain end of stream), but its WSAPoll keeps reporting POLLERR for
    // the reset, as Windows does, and only POLLHUP after a FIN.
    WSAPOLLFD p{handle_of(socket), POLLRDNORM, 0};
    if (::WSAPoll(&p, 1, 0) == 1 && (p.revents & POLLERR)) {
      return IoResult{0, std::make_error_code(std::errc::connection_reset)};
    }
  }
  return r;
}

IoResult send(const Socket& socket, const std::string& data) {
  std::size_t sent = 0;
  while (sent < data.size()) {
    const int n = ::send(handle_of(socket), data.data() + sent, static_cast<int>(data.size() - sent), 0);
    if (n == SOCKET_ERROR) return IoResult{sent, last_error()};
    sent += static_cast<std::size_t>(n);
  }
  return IoResult{sent, {}};
}

IoResult send_without_waiting(const Socket& socket, const std::string& data) {
  set_blocking(socket, false);
  const IoResult r = io_result(::send(handle_of(socket), data.data(), static_cast<int>(data.size()), 0));
  set_blocking(socket, true);
  return r;
}

std::error_code shutdown_send(const Socket& socket) { return result(::shutdown(handle_of(socket), SD_SEND)); }

void close_with_reset(Socket& socket) {
  const linger abort_close{1, 0};
  ::setsockopt(handle_of(socket), SOL_SOCKET, SO_LINGER, reinterpret_cast<const char*>(&abort_close), sizeof abort_close);
  socket.close();
}

IoResult send_to(const Socket& socket, const std::string& data, const Endpoint& to) {
  sockaddr_storage address;
  const int length = to_sockaddr(to, address);
  if (length == 0) return IoResult{0, std::make_error_code(std::errc::invalid_argument)};
  return io_result(::sendto(handle_of(socket), data.data(), static_cast<int>(data.size()), 0,
                            reinterpret_cast<sockaddr*>(&address), length));
}

IoResult recv_from(const Socket& socket, char* buffer, std::size_t size, Endpoint& from) {
  sockaddr_storage address{};
  int length = sizeof address;
  const int n = ::recvfrom(handle_of(socket), buffer, static_cast<int>(size), 0, reinterpret_cast<sockaddr*>(&address), &length);
  if (n != SOCKET_ERROR) from = from_sockaddr(address);
  return io_result(n);
}

}  // namespace sluice::test
