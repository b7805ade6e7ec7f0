// Connects (WSPConnect and ConnectEx), the peer a relayed socket reports, and
// WSPIoctl, which hands out the LSP's own extension functions: the program calls
// them with its handle, which the lower provider's functions would not know.

#include <cstring>

#include "net/socket_address.h"
#include "provider/lsp/lower_provider.h"
#include "provider/lsp/spi.h"

namespace sluice::lsp {

namespace {

// Where a connect to `name` really goes: 0 with target/length set (the relay
// listener or association, in `storage`, when relayed), or the error that refuses it.
int connect_target(LspSocket& socket, const sockaddr* name, int length, sockaddr_storage& storage,
                   const sockaddr*& target, int& target_length) {
  target = name;
  target_length = length;
  const auto destination = net::from_sockaddr(name, length);
  if (!destination) return 0;
  // The core keeps the original peer, which getpeername reports, for TCP and UDP alike.
  return spi().steering->redirect(socket, *destination, /*connecting=*/true, storage, target, target_length);
}

BOOL PASCAL lsp_connect_ex(SOCKET s, const sockaddr* name, int length, PVOID send_buffer, DWORD send_length, LPDWORD sent,
                           LPOVERLAPPED overlapped) {
  int error = 0;
  auto socket = socket_or_error(s, &error);
  if (!socket) {
    WSASetLastError(error);
    return FALSE;
  }
  auto lower_connect = reinterpret_cast<LPFN_CONNECTEX>(socket->provider->extension(socket->lower, WSAID_CONNECTEX));
  if (lower_connect == nullptr || overlapped == nullptr) {
    WSASetLastError(lower_connect == nullptr ? WSAEOPNOTSUPP : WSAEINVAL);
    return FALSE;
  }
  sockaddr_storage relay{};
  const sockaddr* target = nullptr;
  int target_length = 0;
  if (const int refused = connect_target(*socket, name, length, relay, target, target_length)) {
    WSASetLastError(refused);  // nothing started: no completion will come
    return FALSE;
  }
  auto io = make_pending_io(socket, overlapped);
  io->address_length = target_length;
  std::memcpy(&io->address, target, static_cast<std::size_t>(target_length));
  DWORD ignored = 0;
  const int rc = spi().forwarder.run(
      std::move(io),
      [=](PendingIo& io, DWORD* bytes, DWORD*, int* e) {
        if (lower_connect(io.socket->lower, reinterpret_cast<const sockaddr*>(&io.address), io.address_length, send_buffer,
                          send_length, bytes, &io.lower_overlapped)) {
          return 0;
        }
        *e = WSAGetLastError();
        return SOCKET_ERROR;
      },
      sent != nullptr ? sent : &ignored, nullptr, &error);
  if (rc == 0) return TRUE;
  WSASetLastError(error);
  return FALSE;
}

BOOL PASCAL lsp_accept_ex(SOCKET listen_socket, SOCKET accept_socket, PVOID buffer, DWORD receive_length,
                          DWORD local_length, DWORD remote_length, LPDWORD received, LPOVERLAPPED overlapped) {
  int error = 0;
  auto listener = socket_or_error(listen_socket, &error);
  auto accepted = listener ? socket_or_error(accept_socket, &error) : nullptr;
  auto lower_accept = listener ? reinterpret_cast<LPFN_ACCEPTEX>(listener->provider->extension(listener->lower, WSAID_ACCEPTEX))
                               : nullptr;
  if (!accepted || lower_accept == nullptr || overlapped == nullptr) {
    WSASetLastError(error != 0 ? error : lower_accept == nullptr ? WSAEOPNOTSUPP : WSAEINVAL);
    return FALSE;
  }
  auto io = make_pending_io(listener, overlapped);
  const SOCKET lower_accepted = accepted->lower;
  DWORD ignored = 0;
  const int rc = spi().forwarder.run(
      std::move(io),
      [=](PendingIo& io, DWORD* bytes, DWORD*, int* e) {
        if (lower_accept(io.socket->lower, lower_accepted, buffer, receive_length, local_length, remote_length, bytes,
                         &io.lower_overlapped)) {
          return 0;
        }
        *e = WSAGetLastError();
        return SOCKET_ERROR;
      },
      received != nullptr ? received : &ignored, nullptr, &error);
  if (rc == 0) return TRUE;
  WSASetLastError(error);
  return FALSE;
}

// The extension functions the LSP answers for; null for one it does not wrap.
void* own_extension(const GUID& id, LspSocket& socket) {
  static const GUID connect_ex = WSAID_CONNECTEX, accept_ex = WSAID_ACCEPTEX, send_msg = WSAID_WSASENDMSG,
                    recv_msg = WSAID_WSARECVMSG, accept_ex_sockaddrs = WSAID_GETACCEPTEXSOCKADDRS;
  if (IsEqualGUID(id, connect_ex)) return reinterpret_cast<void*>(&lsp_connect_ex);
  if (IsEqualGUID(id, accept_ex)) return reinterpret_cast<void*>(&lsp_accept_ex);
  if (IsEqualGUID(id, send_msg)) return reinterpret_cast<void*>(&lsp_wsa_send_msg);
  if (IsEqualGUID(id, recv_msg)) return reinterpret_cast<void*>(&lsp_wsa_recv_msg);
  // Takes no socket, only the buffer AcceptEx filled: the lower provider's serves.
  if (IsEqualGUID(id, accept_ex_sockaddrs)) return socket.provider->extension(socket.lower, id);
  return nullptr;
}

}  // namespace

int WSPAPI lsp_connect(SOCKET s, const sockaddr* name, int length, LPWSABUF caller, LPWSABUF callee, LPQOS sqos,
                       LPQOS gqos, LPINT error) {
  auto socket = socket_or_error(s, error);
  if (!socket) return SOCKET_ERROR;
  sockaddr_storage relay{};
  const sockaddr* target = nullptr;
  int target_length = 0;
  if (const int refused = connect_target(*socket, name, length, relay, target, target_length)) {
    *error = refused;
    return SOCKET_ERROR;
  }
  return socket->provider->calls.lpWSPConnect(socket->lower, target, target_length, caller, callee, sqos, gqos, error);
}

int WSPAPI lsp_get_peer_name(SOCKET s, sockaddr* name, LPINT length, LPINT error) {
  auto socket = socket_or_error(s, error);
  if (!socket) return SOCKET_ERROR;
  auto original = socket->state->original_peer();
  if (!original) return socket->provider->calls.lpWSPGetPeerName(socket->lower, name, length, error);
  // Connected through the relay: the lower socket's peer is the relay, so ask it
  // only whether it is connected at all, then report the original destination.
  sockaddr_storage relay{};
  int relay_length = sizeof relay;
  if (socket->provider->calls.lpWSPGetPeerName(socket->lower, reinterpret_cast<sockaddr*>(&relay), &relay_length, error) != 0) {
    return SOCKET_ERROR;
  }
  sockaddr_storage peer{};
  const int peer_length = net::to_sockaddr(*original, socket->family, peer);
  if (name == nullptr || length == nullptr || *length < peer_length) {
    *error = WSAEFAULT;
    return SOCKET_ERROR;
  }
  net::copy_out(peer, peer_length, name, length);
  return 0;
}

int WSPAPI lsp_ioctl(SOCKET s, DWORD code, LPVOID in, DWORD in_length, LPVOID out, DWORD out_length, LPDWORD returned,
                     LPWSAOVERLAPPED overlapped, LPWSAOVERLAPPED_COMPLETION_ROUTINE routine, LPWSATHREADID thread,
                     LPINT error) {
  auto socket = socket_or_error(s, error);
  if (!socket) return SOCKET_ERROR;
  if (code == SIO_GET_EXTENSION_FUNCTION_POINTER && in != nullptr && in_length >= sizeof(GUID)) {
    if (out == nullptr || out_length < sizeof(void*)) {
      *error = WSAEFAULT;
      return SOCKET_ERROR;
    }
    void* function = own_extension(*static_cast<const GUID*>(in), *socket);
    if (function == nullptr) {
      // DisconnectEx, TransmitFile, TransmitPackets, ...: the lower provider's would
      // be called with the program's handle, which it does not know.
      *error = WSAEOPNOTSUPP;
      return SOCKET_ERROR;
    }
    *static_cast<void**>(out) = function;
    if (returned != nullptr) *returned = sizeof function;
    return 0;
  }
  const auto& calls = socket->provider->calls;
  if (!is_overlapped_call(overlapped, routine)) {
    return calls.lpWSPIoctl(socket->lower, code, in, in_length, out, out_length, returned, nullptr, nullptr, nullptr, error);
  }
  return spi().forwarder.run(
      make_pending_io(socket, overlapped, routine, thread),
      [=](PendingIo& io, DWORD* bytes, DWORD*, int* e) {
        return io.socket->provider->calls.lpWSPIoctl(io.socket->lower, code, in, in_length, out, out_length, bytes,
                                                      &io.lower_overlapped, nullptr, nullptr, e);
      },
      returned, nullptr, error);
}

}  // namespace sluice::lsp
