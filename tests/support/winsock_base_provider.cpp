#include "tests/support/winsock_base_provider.h"

#include <cwchar>

namespace sluice::test {

namespace {

int result(int rc, LPINT error) {
  if (rc == SOCKET_ERROR) *error = WSAGetLastError();
  return rc;
}

SOCKET WSPAPI base_socket(int af, int type, int protocol, LPWSAPROTOCOL_INFOW, GROUP g, DWORD flags, LPINT error) {
  const SOCKET s = WSASocketW(af, type, protocol, nullptr, g, flags);
  if (s == INVALID_SOCKET) *error = WSAGetLastError();
  return s;
}
int WSPAPI base_close(SOCKET s, LPINT error) { return result(closesocket(s), error); }
SOCKET WSPAPI base_accept(SOCKET s, sockaddr* address, LPINT length, LPCONDITIONPROC condition, DWORD_PTR data, LPINT error) {
  const SOCKET accepted = WSAAccept(s, address, length, condition, data);
  if (accepted == INVALID_SOCKET) *error = WSAGetLastError();
  return accepted;
}
int WSPAPI base_bind(SOCKET s, const sockaddr* name, int length, LPINT error) { return result(bind(s, name, length), error); }
int WSPAPI base_listen(SOCKET s, int backlog, LPINT error) { return result(listen(s, backlog), error); }
int WSPAPI base_connect(SOCKET s, const sockaddr* name, int length, LPWSABUF caller, LPWSABUF callee, LPQOS sqos, LPQOS gqos,
                        LPINT error) {
  return result(WSAConnect(s, name, length, caller, callee, sqos, gqos), error);
}
int WSPAPI base_get_sock_name(SOCKET s, sockaddr* name, LPINT length, LPINT error) {
  return result(getsockname(s, name, length), error);
}
int WSPAPI base_get_peer_name(SOCKET s, sockaddr* name, LPINT length, LPINT error) {
  return result(getpeername(s, name, length), error);
}
int WSPAPI base_get_sock_opt(SOCKET s, int level, int name, char* value, LPINT length, LPINT error) {
  return result(getsockopt(s, level, name, value, length), error);
}
int WSPAPI base_set_sock_opt(SOCKET s, int level, int name, const char* value, int length, LPINT error) {
  return result(setsockopt(s, level, name, value, length), error);
}
int WSPAPI base_shutdown(SOCKET s, int how, LPINT error) { return result(shutdown(s, how), error); }
int WSPAPI base_send(SOCKET s, LPWSABUF buffers, DWORD count, LPDWORD sent, DWORD flags, LPWSAOVERLAPPED overlapped,
                     LPWSAOVERLAPPED_COMPLETION_ROUTINE routine, LPWSATHREADID, LPINT error) {
  return result(WSASend(s, buffers, count, sent, flags, overlapped, routine), error);
}
int WSPAPI base_send_to(SOCKET s, LPWSABUF buffers, DWORD count, LPDWORD sent, DWORD flags, const sockaddr* to, int length,
                        LPWSAOVERLAPPED overlapped, LPWSAOVERLAPPED_COMPLETION_ROUTINE routine, LPWSATHREADID, LPINT error) {
  return result(WSASendTo(s, buffers, count, sent, flags, to, length, overlapped, routine), error);
}
int WSPAPI base_recv(SOCKET s, LPWSABUF buffers, DWORD count, LPDWORD received, LPDWORD flags, LPWSAOVERLAPPED overlapped,
                     LPWSAOVERLAPPED_COMPLETION_ROUTINE routine, LPWSATHREADID, LPINT error) {
  return result(WSARecv(s, buffers, count, received, flags, overlapped, routine), error);
}
int WSPAPI base_recv_from(SOCKET s, LPWSABUF buffers, DWORD count, LPDWORD received, LPDWORD flags, sockaddr* from,
                          LPINT from_length, LPWSAOVERLAPPED overlapped, LPWSAOVERLAPPED_COMPLETION_ROUTINE routine,
                          LPWSATHREADID, LPINT error) {
  return result(WSARecvFrom(s, buffers, count, received, flags, from, from_length, overlapped, routine), error);
}
BOOL WSPAPI base_get_overlapped_result(SOCKET s, LPWSAOVERLAPPED overlapped, LPDWORD bytes, BOOL wait, LPDWORD flags,
                                       LPINT error) {
  const BOOL ok = WSAGetOverlappedResult(s, overlapped, bytes, wait, flags);
  if (!ok) *error = WSAGetLastError();
  return ok;
}
int WSPAPI base_ioctl(SOCKET s, DWORD code, LPVOID in, DWORD in_length, LPVOID out, DWORD out_length, LPDWORD returned,
                      LPWSAOVERLAPPED overlapped, LPWSAOVERLAPPED_COMPLETION_ROUTINE routine, LPWSATHREADID, LPINT error) {
  return result(WSAIoctl(s, code, in, in_length, out, out_length, returned, overlapped, routine), error);
}
int WSPAPI base_event_select(SOCKET s, WSAEVENT event, long events, LPINT error) {
  return result(WSAEventSelect(s, event, events), error);
}
int WSPAPI base_enum_network_events(SOCKET s, WSAEVENT event, LPWSANETWORKEVENTS events, LPINT error) {
  return result(WSAEnumNetworkEvents(s, event, events), error);
}
int WSPAPI base_async_select(SOCKET s, HWND window, unsigned int message, long events, LPINT error) {
  return result(WSAAsyncSelect(s, window, message, events), error);
}
int WSPAPI base_select(int nfds, fd_set* read, fd_set* write, fd_set* except, timeval* timeout, LPINT error) {
  return result(select(nfds, read, write, except, timeout), error);
}
int WSPAPI base_recv_disconnect(SOCKET s, LPWSABUF data, LPINT error) { return result(WSARecvDisconnect(s, data), error); }
int WSPAPI base_send_disconnect(SOCKET s, LPWSABUF data, LPINT error) { return result(WSASendDisconnect(s, data), error); }
int WSPAPI base_duplicate(SOCKET s, DWORD process, LPWSAPROTOCOL_INFOW info, LPINT error) {
  return result(WSADuplicateSocketW(s, process, info), error);
}
SOCKET WSPAPI base_join_leaf(SOCKET s, const sockaddr* name, int length, LPWSABUF caller, LPWSABUF callee, LPQOS sqos,
                             LPQOS gqos, DWORD flags, LPINT error) {
  const SOCKET leaf = WSAJoinLeaf(s, name, length, caller, callee, sqos, gqos, flags);
  if (leaf == INVALID_SOCKET) *error = WSAGetLastError();
  return leaf;
}
BOOL WSPAPI base_get_qos(SOCKET s, LPWSABUF name, LPQOS qos, LPINT error) {
  const BOOL ok = WSAGetQOSByName(s, name, qos);
  if (!ok) *error = WSAGetLastError();
  return ok;
}
int WSPAPI base_cancel_blocking(LPINT) { return 0; }
int WSPAPI base_cleanup(LPINT) { return 0; }  // the harness owns WSAStartup/WSACleanup
int WSPAPI base_address_to_string(LPSOCKADDR address, DWORD length, LPWSAPROTOCOL_INFOW, LPWSTR text, LPDWORD text_length,
                                  LPINT error) {
  return result(WSAAddressToStringW(address, length, nullptr, text, text_length), error);
}
int WSPAPI base_string_to_address(LPWSTR text, INT family, LPWSAPROTOCOL_INFOW, LPSOCKADDR address, LPINT length,
                                  LPINT error) {
  return result(WSAStringToAddressW(text, family, nullptr, address, length), error);
}

}  // namespace

int WSPAPI winsock_base_startup(WORD, LPWSPDATA data, LPWSAPROTOCOL_INFOW, WSPUPCALLTABLE, LPWSPPROC_TABLE t) {
  data->wVersion = data->wHighVersion = MAKEWORD(2, 2);
  std::wcsncpy(data->szDescription, L"harness base provider (real Winsock)", WSPDESCRIPTION_LEN);
  t->lpWSPAccept = base_accept;
  t->lpWSPAddressToString = base_address_to_string;
  t->lpWSPAsyncSelect = base_async_select;
  t->lpWSPBind = base_bind;
  t->lpWSPCancelBlockingCall = base_cancel_blocking;
  t->lpWSPCleanup = base_cleanup;
  t->lpWSPCloseSocket = base_close;
  t->lpWSPConnect = base_connect;
  t->lpWSPDuplicateSocket = base_duplicate;
  t->lpWSPEnumNetworkEvents = base_enum_network_events;
  t->lpWSPEventSelect = base_event_select;
  t->lpWSPGetOverlappedResult = base_get_overlapped_result;
  t->lpWSPGetPeerName = base_get_peer_name;
  t->lpWSPGetSockName = base_get_sock_name;
  t->lpWSPGetSockOpt = base_get_sock_opt;
  t->lpWSPGetQOSByName = base_get_qos;
  t->lpWSPIoctl = base_ioctl;
  t->lpWSPJoinLeaf = base_join_leaf;
  t->lpWSPListen = base_listen;
  t->lpWSPRecv = base_recv;
  t->lpWSPRecvDisconnect = base_recv_disconnect;
  t->lpWSPRecvFrom = base_recv_from;
  t->lpWSPSelect = base_select;
  t->lpWSPSend = base_send;
  t->lpWSPSendDisconnect = base_send_disconnect;
  t->lpWSPSendTo = base_send_to;
  t->lpWSPSetSockOpt = base_set_sock_opt;
  t->lpWSPShutdown = base_shutdown;
  t->lpWSPSocket = base_socket;
  t->lpWSPStringToAddress = base_string_to_address;
  return 0;
}

}  // namespace sluice::test
