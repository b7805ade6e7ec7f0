#include "net/win_socket.h"

#include <cstring>

#include "net/win_base_provider.h"

#include "common/platform/win_strings.h"

namespace sluice::net::win {

namespace {

class WinsockCategory final : public std::error_category {
 public:
  const char* name() const noexcept override { return "winsock"; }
  std::string message(int code) const override { return platform::win32_error_text(static_cast<DWORD>(code)); }
  // So callers can compare with std::errc whatever the platform.
  std::error_condition default_error_condition(int code) const noexcept override {
    switch (code) {
      case WSAECONNRESET:
      case ERROR_NETNAME_DELETED: return std::errc::connection_reset;
      case WSAECONNABORTED:
      case ERROR_CONNECTION_ABORTED: return std::errc::connection_aborted;
      case WSAECONNREFUSED:
      case ERROR_CONNECTION_REFUSED: return std::errc::connection_refused;
      case WSAETIMEDOUT:
      case ERROR_SEM_TIMEOUT: return std::errc::timed_out;
      case WSAEHOSTUNREACH:
      case ERROR_HOST_UNREACHABLE: return std::errc::host_unreachable;
      case WSAENETUNREACH:
      case ERROR_NETWORK_UNREACHABLE: return std::errc::network_unreachable;
      case WSAEADDRNOTAVAIL: return std::errc::address_not_available;
      case WSAEAFNOSUPPORT: return std::errc::address_family_not_supported;
      case WSAEWOULDBLOCK: return std::errc::operation_would_block;
      case WSAEMSGSIZE: return std::errc::message_size;
      case WSAENOBUFS: return std::errc::no_buffer_space;
      case WSA_OPERATION_ABORTED: return std::errc::operation_canceled;
      default: return std::error_condition(code, *this);
    }
  }
};

// One place where a started call's return value becomes a Started.
Started outcome(const Socket& socket, bool succeeded, DWORD bytes) {
  if (succeeded) {
    // Without FILE_SKIP_COMPLETION_PORT_ON_SUCCESS the packet is queued even for an
    // operation that finished at once: it is handled when it arrives, like any other.
    if (socket.completes_inline) return Started{Started::done, bytes, 0};
    return Started{Started::pending, 0, 0};
  }
  // WSASendTo: "WSA_IO_PENDING indicates that the overlapped operation has been
  // successfully initiated ... Any other error code indicates that the overlapped
  // operation was not successfully initiated and no completion indication will occur."
  const int error = WSAGetLastError();
  if (error == WSA_IO_PENDING) return Started{Started::pending, 0, 0};
  return Started{Started::failed, 0, error};
}

// The extension functions are asked of the socket's own provider (a layered provider
// may supply its own), so they are looked up per socket rather than linked.
template <class Function>
Function extension(const Socket& socket, GUID id, const char* name) {
  Function function = nullptr;
  DWORD bytes = 0;
  if (WSAIoctl(socket.handle, SIO_GET_EXTENSION_FUNCTION_POINTER, &id, sizeof id, &function, sizeof function, &bytes,
               nullptr, nullptr) != 0) {
    throw_last_error(std::string("cannot find ") + name);
  }
  return function;
}

WSABUF buffer_of(const char* data, std::size_t size) {
  // WSABUF is not const-correct; a send does not write through it.
  return WSABUF{static_cast<ULONG>(size), const_cast<char*>(data)};
}

}  // namespace

WinsockSession::WinsockSession() {
  WSADATA data;
  if (const int error = WSAStartup(MAKEWORD(2, 2), &data); error != 0) throw_error(error, "WSAStartup");
}

WinsockSession::~WinsockSession() { WSACleanup(); }

const std::error_category& winsock_category() {
  static const WinsockCategory category;
  return category;
}

void throw_error(int error, const std::string& what) { throw std::system_error(error, winsock_category(), what); }

void throw_last_error(const std::string& what) { throw_error(WSAGetLastError(), what); }

std::string error_text(int error) { return platform::win32_error_text(static_cast<DWORD>(error)); }


Socket open_socket(int family, int type, const std::string& what) {
  const int protocol = type == SOCK_STREAM ? IPPROTO_TCP : IPPROTO_UDP;
  Socket socket;
  // From the base provider's own entry, so no layered provider (ours included) sits
  // under the service's sockets: win_base_provider.h. A remembered entry that no
  // longer makes sockets is looked up once more.
  for (int attempt = 0; attempt < 2 && !socket.open(); ++attempt) {
    WSAPROTOCOL_INFOW entry = base_protocol_entry(family, type, protocol);
    socket.handle = WSASocketW(family, type, protocol, &entry, 0, WSA_FLAG_OVERLAPPED | WSA_FLAG_NO_HANDLE_INHERIT);
    if (!socket.open() && attempt == 0) forget_base_protocol_entries();
  }
  if (!socket.open()) throw_last_error(what);
  if (family == AF_INET6) {
    // An IPv6 socket of ours carries IPv6 only; IPv4 has sockets of its own.
    const DWORD one = 1;
    setsockopt(socket.handle, IPPROTO_IPV6, IPV6_V6ONLY, reinterpret_cast<const char*>(&one), sizeof one);
  }
  return socket;
}

void bind(const Socket& socket, const Endpoint& address, const std::string& what) {
  const SocketAddress to = to_sockaddr(address);
  if (::bind(socket.handle, to.get(), to.length) != 0) throw_last_error(what);
}

Endpoint local_address(const Socket& socket) {
  SocketAddress bound;
  bound.length = sizeof(bound.storage);
  if (getsockname(socket.handle, reinterpret_cast<sockaddr*>(&bound.storage), &bound.length) != 0) {
    throw_last_error("getsockname");
  }
  return from_sockaddr(bound.get(), bound.length).value_or(Endpoint{});
}

Endpoint peer_address(const Socket& socket) {
  SocketAddress peer;
  peer.length = sizeof(peer.storage);
  if (getpeername(socket.handle, reinterpret_cast<sockaddr*>(&peer.storage), &peer.length) != 0) {
    throw_last_error("getpeername");
  }
  return from_sockaddr(peer.get(), peer.length).value_or(Endpoint{});
}

void set_no_delay(const Socket& socket) {
  // The relay forwards what arrives as it arrives: Nagle on our side would add a
  // delay the application did not ask for.
  const DWORD one = 1;
  setsockopt(socket.handle, IPPROTO_TCP, TCP_NODELAY, reinterpret_cast<const char*>(&one), sizeof one);
}

void ignore_udp_resets(const Socket& socket) {
  BOOL report = FALSE;
  DWORD bytes = 0;
  WSAIoctl(socket.handle, SIO_UDP_CONNRESET, &report, sizeof report, nullptr, 0, &bytes, nullptr, nullptr);
}

void close(Socket& socket) {
  if (socket.open()) closesocket(socket.handle);
  socket.handle = INVALID_SOCKET;
}

void close_with_reset(Socket& socket) {
  set_abortive_close(socket, true);
  close(socket);
}

void set_abortive_close(const Socket& socket, bool abortive) {
  if (!socket.open()) return;
  const linger close_mode{static_cast<u_short>(abortive ? 1 : 0), 0};
  setsockopt(socket.handle, SOL_SOCKET, SO_LINGER, reinterpret_cast<const char*>(&close_mode), sizeof close_mode);
}

void skip_completion_port_on_success(Socket& socket) {
  socket.completes_inline = false;
  WSAPROTOCOL_INFOW info{};
  int length = sizeof info;
  if (getsockopt(socket.handle, SOL_SOCKET, SO_PROTOCOL_INFOW, reinterpret_cast<char*>(&info), &length) != 0) return;
  if ((info.dwServiceFlags1 & XP1_IFS_HANDLES) == 0) return;
  socket.completes_inline = SetFileCompletionNotificationModes(reinterpret_cast<HANDLE>(socket.handle),
                                                               FILE_SKIP_COMPLETION_PORT_ON_SUCCESS) != FALSE;
}

Started start_recv(const Socket& socket, char* data, std::size_t size, DWORD* flags, OVERLAPPED* overlapped) {
  WSABUF buffer = buffer_of(data, size);
  DWORD bytes = 0;
  *flags = 0;
  const int rc = WSARecv(socket.handle, &buffer, 1, &bytes, flags, overlapped, nullptr);
  return outcome(socket, rc == 0, bytes);
}

Started start_recv_from(const Socket& socket, char* data, std::size_t size, sockaddr_storage* from, int* from_length,
                        DWORD* flags, OVERLAPPED* overlapped) {
  WSABUF buffer = buffer_of(data, size);
  DWORD bytes = 0;
  *flags = 0;
  *from_length = sizeof(*from);
  const int rc = WSARecvFrom(socket.handle, &buffer, 1, &bytes, flags, reinterpret_cast<sockaddr*>(from), from_length,
                             overlapped, nullptr);
  return outcome(socket, rc == 0, bytes);
}

Started start_send(const Socket& socket, const char* data, std::size_t size, OVERLAPPED* overlapped) {
  // The WSABUF array may be transient (Winsock captures it); the bytes may not.
  WSABUF buffer = buffer_of(data, size);
  DWORD bytes = 0;
  const int rc = WSASend(socket.handle, &buffer, 1, &bytes, 0, overlapped, nullptr);
  return outcome(socket, rc == 0, bytes);
}

Started start_wait_readable(const Socket& socket, DWORD* flags, OVERLAPPED* overlapped) {
  // A zero-byte receive: the kernel holds no buffer of ours while it waits (libuv's
  // "zero read", src/win/tcp.c). A non-null pointer, as some providers want one.
  static char nothing[1];
  WSABUF buffer{0, nothing};
  DWORD bytes = 0;
  *flags = 0;
  const int rc = WSARecv(socket.handle, &buffer, 1, &bytes, flags, overlapped, nullptr);
  return outcome(socket, rc == 0, bytes);
}

void set_non_blocking(const Socket& socket) {
  u_long on = 1;
  if (ioctlsocket(socket.handle, FIONBIO, &on) != 0) throw_last_error("FIONBIO");
}

ReadNow read_now(const Socket& socket, char* data, std::size_t size) {
  WSABUF buffer = buffer_of(data, size);
  DWORD bytes = 0, flags = 0;
  if (WSARecv(socket.handle, &buffer, 1, &bytes, &flags, nullptr, nullptr) == 0) return ReadNow{ReadNow::read, bytes, 0};
  const int error = WSAGetLastError();
  if (error == WSAEWOULDBLOCK) return ReadNow{ReadNow::nothing, 0, 0};
  return ReadNow{ReadNow::failed, 0, error};
}

Started start_connect(const Socket& socket, const SocketAddress& to, OVERLAPPED* overlapped) {
  auto connect_ex = extension<LPFN_CONNECTEX>(socket, WSAID_CONNECTEX, "ConnectEx");
  DWORD bytes = 0;
  const BOOL ok = connect_ex(socket.handle, to.get(), to.length, nullptr, 0, &bytes, overlapped);
  return outcome(socket, ok != FALSE, bytes);
}

Started start_accept(const Socket& listener, const Socket& accepted, char* addresses, OVERLAPPED* overlapped) {
  auto accept_ex = extension<LPFN_ACCEPTEX>(listener, WSAID_ACCEPTEX, "AcceptEx");
  DWORD bytes = 0;
  constexpr DWORD kEach = kAcceptAddressBytes / 2;
  const BOOL ok = accept_ex(listener.handle, accepted.handle, addresses, 0, kEach, kEach, &bytes, overlapped);
  return outcome(listener, ok != FALSE, bytes);
}

int completion_error(const Socket& socket, OVERLAPPED* overlapped) {
  DWORD bytes = 0, flags = 0;
  if (WSAGetOverlappedResult(socket.handle, overlapped, &bytes, FALSE, &flags)) return 0;
  return WSAGetLastError();
}

void finish_accept(const Socket& accepted, const Socket& listener) {
  setsockopt(accepted.handle, SOL_SOCKET, SO_UPDATE_ACCEPT_CONTEXT, reinterpret_cast<const char*>(&listener.handle),
             sizeof listener.handle);
}

void finish_connect(const Socket& socket) { setsockopt(socket.handle, SOL_SOCKET, SO_UPDATE_CONNECT_CONTEXT, nullptr, 0); }

void shutdown_send(const Socket& socket) { ::shutdown(socket.handle, SD_SEND); }

bool ended_by_reset(const Socket& socket) {
  WSAPOLLFD poll{socket.handle, POLLRDNORM, 0};
  return WSAPoll(&poll, 1, 0) == 1 && (poll.revents & POLLERR) != 0;
}

}  // namespace sluice::net::win
