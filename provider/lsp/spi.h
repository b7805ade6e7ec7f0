#pragma once

// The LSP's state and the SPI functions it puts in the procedure table WSPStartup
// returns (spi_sockets.cpp: socket lifetime and plain forwarding; spi_transfer.cpp:
// sends and receives; spi_connect.cpp: connects, peer names and WSPIoctl's
// extension functions).

#include <winsock2.h>
#include <mswsock.h>
#include <ws2spi.h>

#include <memory>

#include "provider/lsp/async_select_bridge.h"
#include "provider/lsp/completion_forwarder.h"
#include "provider/lsp/flow_releaser.h"
#include "provider/lsp/lsp_socket.h"
#include "provider/lsp/win_steering.h"

namespace sluice::lsp {

struct Spi {
  WSPUPCALLTABLE upcalls{};
  LPWPUCOMPLETEOVERLAPPEDREQUEST complete_overlapped = nullptr;
  SocketRegistry sockets;
  CompletionForwarder forwarder;
  FlowReleaser releases;  // off the forwarder (flow_releaser.h)
  AsyncSelectBridge async_select;
  std::unique_ptr<Steering> steering;  // null: this process is left alone
};

Spi& spi();

// The socket behind a program's handle, or null with *error = WSAENOTSOCK.
std::shared_ptr<LspSocket> socket_or_error(SOCKET s, LPINT error);

// spi_sockets.cpp
SOCKET WSPAPI lsp_socket(int af, int type, int protocol, LPWSAPROTOCOL_INFOW info, GROUP g, DWORD flags, LPINT error);
int WSPAPI lsp_close_socket(SOCKET s, LPINT error);
SOCKET WSPAPI lsp_accept(SOCKET s, sockaddr* address, LPINT length, LPCONDITIONPROC condition, DWORD_PTR data, LPINT error);
int WSPAPI lsp_bind(SOCKET s, const sockaddr* name, int length, LPINT error);
int WSPAPI lsp_listen(SOCKET s, int backlog, LPINT error);
int WSPAPI lsp_get_sock_name(SOCKET s, sockaddr* name, LPINT length, LPINT error);
int WSPAPI lsp_get_sock_opt(SOCKET s, int level, int name, char* value, LPINT length, LPINT error);
int WSPAPI lsp_set_sock_opt(SOCKET s, int level, int name, const char* value, int length, LPINT error);
int WSPAPI lsp_shutdown(SOCKET s, int how, LPINT error);
int WSPAPI lsp_event_select(SOCKET s, WSAEVENT event, long events, LPINT error);
int WSPAPI lsp_enum_network_events(SOCKET s, WSAEVENT event, LPWSANETWORKEVENTS events, LPINT error);
int WSPAPI lsp_async_select(SOCKET s, HWND window, unsigned int message, long events, LPINT error);
int WSPAPI lsp_select(int nfds, fd_set* read, fd_set* write, fd_set* except, timeval* timeout, LPINT error);
int WSPAPI lsp_recv_disconnect(SOCKET s, LPWSABUF data, LPINT error);
int WSPAPI lsp_send_disconnect(SOCKET s, LPWSABUF data, LPINT error);
int WSPAPI lsp_duplicate_socket(SOCKET s, DWORD process, LPWSAPROTOCOL_INFOW info, LPINT error);
SOCKET WSPAPI lsp_join_leaf(SOCKET s, const sockaddr* name, int length, LPWSABUF caller, LPWSABUF callee, LPQOS sqos,
                            LPQOS gqos, DWORD flags, LPINT error);
BOOL WSPAPI lsp_get_qos_by_name(SOCKET s, LPWSABUF name, LPQOS qos, LPINT error);
int WSPAPI lsp_cancel_blocking_call(LPINT error);
int WSPAPI lsp_address_to_string(LPSOCKADDR address, DWORD length, LPWSAPROTOCOL_INFOW info, LPWSTR text,
                                 LPDWORD text_length, LPINT error);
int WSPAPI lsp_string_to_address(LPWSTR text, INT family, LPWSAPROTOCOL_INFOW info, LPSOCKADDR address, LPINT length,
                                 LPINT error);

// spi_transfer.cpp
int WSPAPI lsp_send(SOCKET s, LPWSABUF buffers, DWORD count, LPDWORD sent, DWORD flags, LPWSAOVERLAPPED overlapped,
                    LPWSAOVERLAPPED_COMPLETION_ROUTINE routine, LPWSATHREADID thread, LPINT error);
int WSPAPI lsp_send_to(SOCKET s, LPWSABUF buffers, DWORD count, LPDWORD sent, DWORD flags, const sockaddr* to, int to_length,
                       LPWSAOVERLAPPED overlapped, LPWSAOVERLAPPED_COMPLETION_ROUTINE routine, LPWSATHREADID thread,
                       LPINT error);
int WSPAPI lsp_recv(SOCKET s, LPWSABUF buffers, DWORD count, LPDWORD received, LPDWORD flags, LPWSAOVERLAPPED overlapped,
                    LPWSAOVERLAPPED_COMPLETION_ROUTINE routine, LPWSATHREADID thread, LPINT error);
int WSPAPI lsp_recv_from(SOCKET s, LPWSABUF buffers, DWORD count, LPDWORD received, LPDWORD flags, sockaddr* from,
                         LPINT from_length, LPWSAOVERLAPPED overlapped, LPWSAOVERLAPPED_COMPLETION_ROUTINE routine,
                         LPWSATHREADID thread, LPINT error);
BOOL WSPAPI lsp_get_overlapped_result(SOCKET s, LPWSAOVERLAPPED overlapped, LPDWORD bytes, BOOL wait, LPDWORD flags,
                                      LPINT error);
INT WSAAPI lsp_wsa_send_msg(SOCKET s, LPWSAMSG message, DWORD flags, LPDWORD sent, LPWSAOVERLAPPED overlapped,
                            LPWSAOVERLAPPED_COMPLETION_ROUTINE routine);
INT WSAAPI lsp_wsa_recv_msg(SOCKET s, LPWSAMSG message, LPDWORD received, LPWSAOVERLAPPED overlapped,
                            LPWSAOVERLAPPED_COMPLETION_ROUTINE routine);

// spi_connect.cpp
int WSPAPI lsp_connect(SOCKET s, const sockaddr* name, int length, LPWSABUF caller, LPWSABUF callee, LPQOS sqos,
                       LPQOS gqos, LPINT error);
int WSPAPI lsp_get_peer_name(SOCKET s, sockaddr* name, LPINT length, LPINT error);
int WSPAPI lsp_ioctl(SOCKET s, DWORD code, LPVOID in, DWORD in_length, LPVOID out, DWORD out_length, LPDWORD returned,
                     LPWSAOVERLAPPED overlapped, LPWSAOVERLAPPED_COMPLETION_ROUTINE routine, LPWSATHREADID thread,
                     LPINT error);

}  // namespace sluice::lsp
