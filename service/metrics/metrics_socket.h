#pragma once

// The few socket calls the metrics server makes, non-blocking throughout, behind
// one interface: posix_metrics_socket.cpp (BSD sockets, poll) and
// win_metrics_socket.cpp (Winsock, WSAPoll); CMake picks the file. Errors the
// server cannot go on without come as std::system_error naming what failed.

#include <cstddef>
#include <cstdint>
#include <vector>

#include "net/ip_address.h"

namespace sluice::service::metrics {

using SocketHandle = std::intptr_t;  // an int fd, or a SOCKET (INVALID_SOCKET is -1 here too)
inline constexpr SocketHandle kNoSocket = -1;

// The platform's socket library started for as long as it lives (WSAStartup and
// WSACleanup are counted, so other users in the process are not disturbed).
class SocketLibrary {
 public:
  SocketLibrary();
  ~SocketLibrary();
  SocketLibrary(const SocketLibrary&) = delete;
  SocketLibrary& operator=(const SocketLibrary&) = delete;
};

// A listening TCP socket bound to `address`, exclusively (no other socket may
// share the port). Throws std::system_error.
SocketHandle open_listener(const net::Endpoint& address);
net::Endpoint bound_address(SocketHandle listener);
// One waiting connection, non-blocking; kNoSocket when none waits.
SocketHandle accept_connection(SocketHandle listener);
void close_socket(SocketHandle socket);

struct Readiness {
  SocketHandle socket = kNoSocket;
  bool want_write = false;  // else: readable (data, end of stream, a connection to accept)
  bool ready = false;       // set by wait_ready; also for errors and hang-ups
};
// Waits up to `timeout_ms` for any of `sockets` to be ready.
void wait_ready(std::vector<Readiness>& sockets, int timeout_ms);

struct Transfer {
  enum Kind { moved, would_block, ended, failed } kind = failed;  // ended: the peer closed (receive)
  std::size_t bytes = 0;
};
Transfer receive_some(SocketHandle socket, char* buffer, std::size_t size);
Transfer send_some(SocketHandle socket, const char* data, std::size_t size);

}  // namespace sluice::service::metrics
