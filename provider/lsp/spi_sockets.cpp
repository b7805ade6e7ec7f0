// Socket lifetime and the calls the LSP only forwards: each finds the lower socket
// behind the program's handle and calls the lower provider with it.

#include <vector>

#include "provider/lsp/lower_provider.h"
#include "provider/lsp/spi.h"

namespace sluice::lsp {

namespace {

bool steerable(int family, int type) {
  return (family == AF_INET || family == AF_INET6) && (type == SOCK_STREAM || type == SOCK_DGRAM);
}

// Wraps a lower socket into a handle for the program.
SOCKET hand_out(LowerProvider* provider, SOCKET lower, int family, int type, LPINT error) {
  auto socket = std::make_shared<LspSocket>();
  socket->lower = lower;
  socket->provider = provider;
  socket->family = family;
  socket->type = type;
  socket->state = std::make_shared<provider::SocketState>(family, spi().steering && steerable(family, type), type == SOCK_DGRAM);
  socket->app = spi().upcalls.lpWPUCreateSocketHandle(provider->chain_entry_id,
                                                      reinterpret_cast<DWORD_PTR>(socket.get()), error);
  if (socket->app == INVALID_SOCKET) {
    int ignored = 0;
    provider->calls.lpWSPCloseSocket(lower, &ignored);
    return INVALID_SOCKET;
  }
  socket->forwards_overlapped = spi().forwarder.adopt(lower);
  const SOCKET app = socket->app;
  spi().sockets.add(std::move(socket));
  return app;
}

int socket_type(LowerProvider* provider, SOCKET lower) {
  int type = 0, length = sizeof type, error = 0;
  provider->calls.lpWSPGetSockOpt(lower, SOL_SOCKET, SO_TYPE, reinterpret_cast<char*>(&type), &length, &error);
  return type;
}

// Rewrites an fd_set of program handles into lower sockets (and back with `to_app`).
bool translate(fd_set* set, bool to_app, LowerProvider** provider) {
  if (set == nullptr) return true;
  for (u_int i = 0; i < set->fd_count; ++i) {
    if (to_app) {
      set->fd_array[i] = spi().sockets.app_handle_of(set->fd_array[i]);
    } else {
      auto socket = spi().sockets.find(set->fd_array[i]);
      if (!socket) return false;
      set->fd_array[i] = socket->lower;
      *provider = socket->provider;
    }
  }
  return true;
}

}  // namespace

std::shared_ptr<LspSocket> socket_or_error(SOCKET s, LPINT error) {
  auto socket = spi().sockets.find(s);
  if (!socket) *error = WSAENOTSOCK;
  return socket;
}

SOCKET WSPAPI lsp_socket(int af, int type, int protocol, LPWSAPROTOCOL_INFOW info, GROUP g, DWORD flags, LPINT error) {
  LowerProvider* provider = info != nullptr ? lower_provider_for(info->dwCatalogEntryId) : nullptr;
  if (provider == nullptr) {
    *error = WSAEPROVIDERFAILEDINIT;
    return INVALID_SOCKET;
  }
  // Always overlapped below: the LSP forwards a program's overlapped operations
  // through its own completion port, and synchronous calls work on such a socket too.
  const SOCKET lower = provider->calls.lpWSPSocket(af, type, protocol, &provider->info, g, flags | WSA_FLAG_OVERLAPPED, error);
  if (lower == INVALID_SOCKET) return INVALID_SOCKET;
  const int family = af != FROM_PROTOCOL_INFO ? af : info->iAddressFamily;
  return hand_out(provider, lower, family, socket_type(provider, lower), error);
}

int WSPAPI lsp_close_socket(SOCKET s, LPINT error) {
  auto socket = spi().sockets.remove(s);
  if (!socket) {
    *error = WSAENOTSOCK;
    return SOCKET_ERROR;
  }
  spi().async_select.forget(s);
  // Closing below aborts what is outstanding; those completions still reach the
  // program, as the seeds' WSA_OPERATION_ABORTED says. Relay associations are
  // released when the last holder of the socket's state lets go.
  // The program's handle goes when the last operation on it has been reported.
  socket->closed = true;
  return socket->provider->calls.lpWSPCloseSocket(socket->lower, error);
}

SOCKET WSPAPI lsp_accept(SOCKET s, sockaddr* address, LPINT length, LPCONDITIONPROC condition, DWORD_PTR data,
                         LPINT error) {
  auto listener = socket_or_error(s, error);
  if (!listener) return INVALID_SOCKET;
  const SOCKET lower = listener->provider->calls.lpWSPAccept(listener->lower, address, length, condition, data, error);
  if (lower == INVALID_SOCKET) return INVALID_SOCKET;
  return hand_out(listener->provider, lower, listener->family, listener->type, error);
}

int WSPAPI lsp_bind(SOCKET s, const sockaddr* name, int length, LPINT error) {
  auto socket = socket_or_error(s, error);
  return socket ? socket->provider->calls.lpWSPBind(socket->lower, name, length, error) : SOCKET_ERROR;
}

int WSPAPI lsp_listen(SOCKET s, int backlog, LPINT error) {
  auto socket = socket_or_error(s, error);
  return socket ? socket->provider->calls.lpWSPListen(socket->lower, backlog, error) : SOCKET_ERROR;
}

int WSPAPI lsp_get_sock_name(SOCKET s, sockaddr* name, LPINT length, LPINT error) {
  auto socket = socket_or_error(s, error);
  return socket ? socket->provider->calls.lpWSPGetSockName(socket->lower, name, length, error) : SOCKET_ERROR;
}

int WSPAPI lsp_get_sock_opt(SOCKET s, int level, int name, char* value, LPINT length, LPINT error) {
  auto socket = socket_or_error(s, error);
  return socket ? socket->provider->calls.lpWSPGetSockOpt(socket->lower, level, name, value, length, error) : SOCKET_ERROR;
}

int WSPAPI lsp_set_sock_opt(SOCKET s, int level, int name, const char* value, int length, LPINT error) {
  auto socket = socket_or_error(s, error);
  return socket ? socket->provider->calls.lpWSPSetSockOpt(socket->lower, level, name, value, length, error) : SOCKET_ERROR;
}

int WSPAPI lsp_shutdown(SOCKET s, int how, LPINT error) {
  auto socket = socket_or_error(s, error);
  return socket ? socket->provider->calls.lpWSPShutdown(socket->lower, how, error) : SOCKET_ERROR;
}

int WSPAPI lsp_event_select(SOCKET s, WSAEVENT event, long events, LPINT error) {
  auto socket = socket_or_error(s, error);
  if (socket) spi().async_select.forget(s);  // one replaces the other, as in Winsock
  return socket ? socket->provider->calls.lpWSPEventSelect(socket->lower, event, events, error) : SOCKET_ERROR;
}

int WSPAPI lsp_enum_network_events(SOCKET s, WSAEVENT event, LPWSANETWORKEVENTS events, LPINT error) {
  auto socket = socket_or_error(s, error);
  return socket ? socket->provider->calls.lpWSPEnumNetworkEvents(socket->lower, event, events, error) : SOCKET_ERROR;
}

int WSPAPI lsp_async_select(SOCKET s, HWND window, unsigned int message, long events, LPINT error) {
  auto socket = socket_or_error(s, error);
  return socket ? spi().async_select.select(socket, window, message, events, spi().upcalls.lpWPUPostMessage, error)
                : SOCKET_ERROR;
}

int WSPAPI lsp_select(int nfds, fd_set* read, fd_set* write, fd_set* except, timeval* timeout, LPINT error) {
  LowerProvider* provider = nullptr;
  if (!translate(read, false, &provider) || !translate(write, false, &provider) || !translate(except, false, &provider)) {
    *error = WSAENOTSOCK;
    return SOCKET_ERROR;
  }
  if (provider == nullptr) {
    *error = WSAEINVAL;  // no sockets at all, as select() itself answers
    return SOCKET_ERROR;
  }
  const int rc = provider->calls.lpWSPSelect(nfds, read, write, except, timeout, error);
  translate(read, true, nullptr);
  translate(write, true, nullptr);
  translate(except, true, nullptr);
  return rc;
}

int WSPAPI lsp_recv_disconnect(SOCKET s, LPWSABUF data, LPINT error) {
  auto socket = socket_or_error(s, error);
  return socket ? socket->provider->calls.lpWSPRecvDisconnect(socket->lower, data, error) : SOCKET_ERROR;
}

int WSPAPI lsp_send_disconnect(SOCKET s, LPWSABUF data, LPINT error) {
  auto socket = socket_or_error(s, error);
  return socket ? socket->provider->calls.lpWSPSendDisconnect(socket->lower, data, error) : SOCKET_ERROR;
}

int WSPAPI lsp_duplicate_socket(SOCKET s, DWORD, LPWSAPROTOCOL_INFOW, LPINT error) {
  // The other process would get the lower socket without the LSP's state.
  if (socket_or_error(s, error)) *error = WSAEOPNOTSUPP;
  return SOCKET_ERROR;
}

SOCKET WSPAPI lsp_join_leaf(SOCKET s, const sockaddr* name, int length, LPWSABUF caller, LPWSABUF callee, LPQOS sqos,
                            LPQOS gqos, DWORD flags, LPINT error) {
  auto socket = socket_or_error(s, error);
  if (!socket) return INVALID_SOCKET;
  const SOCKET leaf = socket->provider->calls.lpWSPJoinLeaf(socket->lower, name, length, caller, callee, sqos, gqos, flags, error);
  if (leaf == INVALID_SOCKET) return INVALID_SOCKET;
  if (leaf == socket->lower) return s;
  return hand_out(socket->provider, leaf, socket->family, socket->type, error);
}

BOOL WSPAPI lsp_get_qos_by_name(SOCKET s, LPWSABUF name, LPQOS qos, LPINT error) {
  auto socket = socket_or_error(s, error);
  return socket ? socket->provider->calls.lpWSPGetQOSByName(socket->lower, name, qos, error) : FALSE;
}

int WSPAPI lsp_cancel_blocking_call(LPINT error) {
  *error = WSAEOPNOTSUPP;  // Winsock 1 blocking hooks: gone since Winsock 2
  return SOCKET_ERROR;
}

int WSPAPI lsp_address_to_string(LPSOCKADDR address, DWORD length, LPWSAPROTOCOL_INFOW info, LPWSTR text,
                                 LPDWORD text_length, LPINT error) {
  LowerProvider* provider = info != nullptr ? lower_provider_for(info->dwCatalogEntryId) : nullptr;
  if (provider == nullptr) {
    *error = WSAEINVAL;
    return SOCKET_ERROR;
  }
  return provider->calls.lpWSPAddressToString(address, length, &provider->info, text, text_length, error);
}

int WSPAPI lsp_string_to_address(LPWSTR text, INT family, LPWSAPROTOCOL_INFOW info, LPSOCKADDR address, LPINT length,
                                 LPINT error) {
  LowerProvider* provider = info != nullptr ? lower_provider_for(info->dwCatalogEntryId) : nullptr;
  if (provider == nullptr) {
    *error = WSAEINVAL;
    return SOCKET_ERROR;
  }
  return provider->calls.lpWSPStringToAddress(text, family, &provider->info, address, length, error);
}

}  // namespace sluice::lsp
