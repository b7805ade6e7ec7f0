// The metrics server's sockets on POSIX: non-blocking, close-on-exec, poll().
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <string>
#include <system_error>

#include "net/socket_address.h"
#include "service/metrics/metrics_socket.h"

namespace sluice::service::metrics {
namespace {

[[noreturn]] void throw_errno(const std::string& what) { throw std::system_error(errno, std::generic_category(), what); }

int fd(SocketHandle socket) { return static_cast<int>(socket); }

bool would_block(int error) { return error == EAGAIN || error == EWOULDBLOCK; }

}  // namespace

SocketLibrary::SocketLibrary() = default;
SocketLibrary::~SocketLibrary() = default;

SocketHandle open_listener(const net::Endpoint& address) {
  const net::SocketAddress at = net::to_sockaddr(address);
  const std::string where = net::format_endpoint(address);
  const int s = ::socket(at.family(), SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (s < 0) throw_errno("cannot open a socket for " + where);
  // SO_REUSEADDR lets a restarted sluiced bind while old connections linger in
  // TIME_WAIT; on Linux it never lets a second listener share the port.
  const int on = 1;
  ::setsockopt(s, SOL_SOCKET, SO_REUSEADDR, &on, sizeof on);
  if (at.family() == AF_INET6) ::setsockopt(s, IPPROTO_IPV6, IPV6_V6ONLY, &on, sizeof on);
  if (::bind(s, at.get(), at.length) != 0 || ::listen(s, 16) != 0) {
    const int error = errno;
    ::close(s);
    throw std::system_error(error, std::generic_category(), "cannot listen on " + where);
  }
  return s;
}

net::Endpoint bound_address(SocketHandle listener) {
  sockaddr_storage storage{};
  socklen_t length = sizeof storage;
  if (::getsockname(fd(listener), reinterpret_cast<sockaddr*>(&storage), &length) != 0) throw_errno("getsockname");
  return net::from_sockaddr(reinterpret_cast<const sockaddr*>(&storage), length).value_or(net::Endpoint{});
}

SocketHandle accept_connection(SocketHandle listener) {
  const int s = ::accept4(fd(listener), nullptr, nullptr, SOCK_NONBLOCK | SOCK_CLOEXEC);
  return s < 0 ? kNoSocket : s;
}

void close_socket(SocketHandle socket) {
  if (socket != kNoSocket) ::close(fd(socket));
}

void wait_ready(std::vector<Readiness>& sockets, int timeout_ms) {
  std::vector<pollfd> polled(sockets.size());
  for (std::size_t i = 0; i < sockets.size(); ++i) {
    polled[i] = pollfd{fd(sockets[i].socket), static_cast<short>(sockets[i].want_write ? POLLOUT : POLLIN), 0};
  }
  if (::poll(polled.data(), polled.size(), timeout_ms) < 0 && errno != EINTR) throw_errno("poll");
  for (std::size_t i = 0; i < sockets.size(); ++i) sockets[i].ready = polled[i].revents != 0;
}

Transfer receive_some(SocketHandle socket, char* buffer, std::size_t size) {
  const ssize_t n = ::recv(fd(socket), buffer, size, 0);
  if (n > 0) return {Transfer::moved, static_cast<std::size_t>(n)};
  if (n == 0) return {Transfer::ended, 0};
  return {would_block(errno) || errno == EINTR ? Transfer::would_block : Transfer::failed, 0};
}

Transfer send_some(SocketHandle socket, const char* data, std::size_t size) {
  // MSG_NOSIGNAL: a scraper that went away must not raise SIGPIPE in sluiced.
  const ssize_t n = ::send(fd(socket), data, size, MSG_NOSIGNAL);
  if (n >= 0) return {Transfer::moved, static_cast<std::size_t>(n)};
  return {would_block(errno) || errno == EINTR ? Transfer::would_block : Transfer::failed, 0};
}

}  // namespace sluice::service::metrics
