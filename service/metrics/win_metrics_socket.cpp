// The metrics server's sockets on Windows: Winsock, non-blocking (FIONBIO), not
// inheritable, WSAPoll. Error texts come from net's Winsock category.
#include <winsock2.h>
#include <ws2tcpip.h>

#include <string>
#include <system_error>

#include "net/socket_address.h"
#include "net/win_socket.h"
#include "service/metrics/metrics_socket.h"

namespace sluice::service::metrics {
namespace {

SOCKET handle(SocketHandle socket) { return static_cast<SOCKET>(socket); }

bool make_non_blocking(SOCKET s) {
  u_long on = 1;
  return ioctlsocket(s, FIONBIO, &on) == 0;
}

}  // namespace

SocketLibrary::SocketLibrary() {
  WSADATA data;
  if (const int error = WSAStartup(MAKEWORD(2, 2), &data); error != 0) net::win::throw_error(error, "WSAStartup");
}

SocketLibrary::~SocketLibrary() { WSACleanup(); }

SocketHandle open_listener(const net::Endpoint& address) {
  const net::SocketAddress at = net::to_sockaddr(address);
  const std::string where = net::format_endpoint(address);
  // From the base provider's entry, as every socket of sluiced's (no LSP under it).
  const SOCKET s = net::win::open_socket(at.family(), SOCK_STREAM, "cannot open a socket for " + where).handle;
  // Without SO_EXCLUSIVEADDRUSE another program could bind the same port with
  // SO_REUSEADDR and take the scrapes.
  const BOOL on = TRUE;
  setsockopt(s, SOL_SOCKET, SO_EXCLUSIVEADDRUSE, reinterpret_cast<const char*>(&on), sizeof on);
  if (!make_non_blocking(s) || bind(s, at.get(), at.length) != 0 || listen(s, 16) != 0) {
    const int error = WSAGetLastError();
    closesocket(s);
    net::win::throw_error(error, "cannot listen on " + where);
  }
  return static_cast<SocketHandle>(s);
}

net::Endpoint bound_address(SocketHandle listener) {
  sockaddr_storage storage{};
  int length = sizeof storage;
  if (getsockname(handle(listener), reinterpret_cast<sockaddr*>(&storage), &length) != 0) {
    net::win::throw_last_error("getsockname");
  }
  return net::from_sockaddr(reinterpret_cast<const sockaddr*>(&storage), length).value_or(net::Endpoint{});
}

SocketHandle accept_connection(SocketHandle listener) {
  const SOCKET s = accept(handle(listener), nullptr, nullptr);
  if (s == INVALID_SOCKET) return kNoSocket;
  // Accepted sockets inherit the listener's non-blocking mode; said again, as it is cheap.
  make_non_blocking(s);
  return static_cast<SocketHandle>(s);
}

void close_socket(SocketHandle socket) {
  if (socket != kNoSocket) closesocket(handle(socket));
}

void wait_ready(std::vector<Readiness>& sockets, int timeout_ms) {
  std::vector<WSAPOLLFD> polled(sockets.size());
  for (std::size_t i = 0; i < sockets.size(); ++i) {
    polled[i].fd = handle(sockets[i].socket);
    polled[i].events = static_cast<SHORT>(sockets[i].want_write ? POLLWRNORM : POLLRDNORM);
    polled[i].revents = 0;
  }
  if (WSAPoll(polled.data(), static_cast<ULONG>(polled.size()), timeout_ms) == SOCKET_ERROR) {
    net::win::throw_last_error("WSAPoll");
  }
  for (std::size_t i = 0; i < sockets.size(); ++i) sockets[i].ready = polled[i].revents != 0;
}

Transfer receive_some(SocketHandle socket, char* buffer, std::size_t size) {
  const int n = recv(handle(socket), buffer, static_cast<int>(size), 0);
  if (n > 0) return {Transfer::moved, static_cast<std::size_t>(n)};
  if (n == 0) return {Transfer::ended, 0};
  return {WSAGetLastError() == WSAEWOULDBLOCK ? Transfer::would_block : Transfer::failed, 0};
}

Transfer send_some(SocketHandle socket, const char* data, std::size_t size) {
  const int n = send(handle(socket), data, static_cast<int>(size), 0);
  if (n >= 0) return {Transfer::moved, static_cast<std::size_t>(n)};
  return {WSAGetLastError() == WSAEWOULDBLOCK ? Transfer::would_block : Transfer::failed, 0};
}

}  // namespace sluice::service::metrics
