#pragma once

// Winsock plumbing for the IOCP relay backend: the overlapped calls the engine starts
// (each reporting whether it is pending, done already, or failed without a
// completion), and Winsock errors turned into std::system_error once, here, at the
// system-call boundary. Endpoint conversions are socket_address.h's.

#include <winsock2.h>
#include <ws2tcpip.h>
#include <mswsock.h>
#include <windows.h>

#include <string>
#include <system_error>

#include "net/socket_address.h"

namespace sluice::net::win {

// Winsock started for as long as it lives (WSAStartup and WSACleanup are counted, so
// the engine and whoever else in the process uses sockets do not interfere).
class WinsockSession {
 public:
  WinsockSession();  // throws std::system_error
  ~WinsockSession();
  WinsockSession(const WinsockSession&) = delete;
  WinsockSession& operator=(const WinsockSession&) = delete;
};

// Winsock error codes (WSAE*, and the Win32 codes overlapped calls report), with
// the system's own text for them.
const std::error_category& winsock_category();
[[noreturn]] void throw_error(int error, const std::string& what);
// The error of the last failed Winsock call.
[[noreturn]] void throw_last_error(const std::string& what);
// "No connection could be made ... (error 10061)".
std::string error_text(int error);

// An overlapped socket and whether its completions skip the port on success
// (FILE_SKIP_COMPLETION_PORT_ON_SUCCESS): then an operation that succeeds at once
// is finished by its caller, and no completion packet will follow.
struct Socket {
  SOCKET handle = INVALID_SOCKET;
  bool completes_inline = false;
  bool open() const { return handle != INVALID_SOCKET; }
};

// An overlapped, non-inheritable socket made from the base provider's catalog entry
// (win_base_provider.h), so no LSP is layered under it; throws naming `what`.
Socket open_socket(int family, int type, const std::string& what);
void bind(const Socket& socket, const Endpoint& address, const std::string& what);
Endpoint local_address(const Socket& socket);
Endpoint peer_address(const Socket& socket);
void set_no_delay(const Socket& socket);
// UDP: an ICMP "port unreachable" for a datagram sent earlier would otherwise fail
// the next receive with WSAECONNRESET; the relay has nothing to do with it.
void ignore_udp_resets(const Socket& socket);
// Closes gracefully (FIN), or with a reset (SO_LINGER 0): how a failed relay tells
// the application its connection is gone. Either cancels outstanding operations.
void close(Socket& socket);
void close_with_reset(Socket& socket);
// With `abortive`, any close of the socket sends a reset (SO_LINGER 0), also the one
// the system makes when this process dies; without, closing is graceful again.
void set_abortive_close(const Socket& socket, bool abortive);
// Asks for FILE_SKIP_COMPLETION_PORT_ON_SUCCESS and records whether it was granted.
// Only sockets of an IFS provider get it: a layered provider that is not IFS may
// complete an operation at once *and* queue its packet, so there the completion
// port keeps reporting every operation (as libuv and msquic decide too).
void skip_completion_port_on_success(Socket& socket);

// How starting an overlapped operation went.
struct Started {
  enum Kind {
    pending,  // a completion packet will report it
    done,     // finished at once; no packet follows (completes_inline sockets only)
    failed,   // not started; no packet follows
  } kind = pending;
  DWORD bytes = 0;  // done: bytes transferred
  int error = 0;    // failed: the Winsock error
};

// `data`, `flags` and `overlapped` must stay valid until the operation is reported
// (now, or by its completion packet): the provider writes them when data arrives.
Started start_recv(const Socket& socket, char* data, std::size_t size, DWORD* flags, OVERLAPPED* overlapped);
// So must `from` and `from_length`.
Started start_recv_from(const Socket& socket, char* data, std::size_t size, sockaddr_storage* from, int* from_length,
                        DWORD* flags, OVERLAPPED* overlapped);
// On a connected socket (stream, or datagram after connect()): no address is named.
// WSASendTo's lpTo on a connected datagram socket "overrides the destination address
// for that particular datagram only", which a connected relay socket never wants.
Started start_send(const Socket& socket, const char* data, std::size_t size, OVERLAPPED* overlapped);
// A zero-byte WSARecv on a stream socket: its completion says data (or the end of
// the stream, or a reset) is there to read, and no buffer is pinned meanwhile.
Started start_wait_readable(const Socket& socket, DWORD* flags, OVERLAPPED* overlapped);
// FIONBIO, for read_now(); overlapped operations on the socket are not affected.
void set_non_blocking(const Socket& socket);
// Reads what is there now, without waiting (the socket is non-blocking): `read` with
// bytes (0: the end of the stream), `nothing` (WSAEWOULDBLOCK), or `failed`.
struct ReadNow {
  enum Kind { read, nothing, failed } kind = nothing;
  DWORD bytes = 0;
  int error = 0;
};
ReadNow read_now(const Socket& socket, char* data, std::size_t size);
// ConnectEx: the socket must be bound.
Started start_connect(const Socket& socket, const SocketAddress& to, OVERLAPPED* overlapped);
// AcceptEx into `accepted` (a fresh socket of the listener's family); `addresses`
// holds kAcceptAddressBytes. No data is awaited with the connection.
constexpr DWORD kAcceptAddressBytes = 2 * (sizeof(sockaddr_storage) + 16);
Started start_accept(const Socket& listener, const Socket& accepted, char* addresses, OVERLAPPED* overlapped);

// After a completion packet: 0 when the operation succeeded, else its Winsock error.
int completion_error(const Socket& socket, OVERLAPPED* overlapped);
// Gives an accepted / connected socket its full state (getpeername, shutdown and
// setsockopt need it after AcceptEx and ConnectEx).
void finish_accept(const Socket& accepted, const Socket& listener);
void finish_connect(const Socket& socket);
// shutdown(SD_SEND): the peer sees the end of the stream.
void shutdown_send(const Socket& socket);
// After a receive reported the end of a stream: true when the peer reset it rather
// than closing it. Windows fails the receive itself with WSAECONNRESET; Wine 8 does
// so only for a receive already waiting when the reset arrives, and reports a later
// one as a plain end of stream, while WSAPoll keeps saying POLLERR, as on Windows.
bool ended_by_reset(const Socket& socket);

}  // namespace sluice::net::win
