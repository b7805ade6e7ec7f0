// Sends and receives. Datagrams to a relayed destination go to its relay
// association instead, payload untouched (so WSAEMSGSIZE is the lower provider's
// own, with nothing sent); datagrams back from the association are reported as
// coming from the original destination. Overlapped operations go through the
// completion forwarder, which keeps the seeds' completion rules.

#include <cstring>

#include "net/socket_address.h"
#include "provider/lsp/lower_provider.h"
#include "provider/lsp/spi.h"

namespace sluice::lsp {

namespace {

bool is_limited_broadcast(const net::Endpoint& address) {
  return address.ip == net::ipv4(255, 255, 255, 255);
}

bool broadcast_allowed(const LspSocket& socket) {
  BOOL allowed = FALSE;
  int length = sizeof allowed, error = 0;
  socket.provider->calls.lpWSPGetSockOpt(socket.lower, SOL_SOCKET, SO_BROADCAST, reinterpret_cast<char*>(&allowed),
                                         &length, &error);
  return allowed != FALSE;
}

// Where a datagram to `to` really goes. Returns 0 and sets target/length (possibly
// to the relay association, in `storage`), or a Winsock error that fails the call
// with nothing sent.
int datagram_target(LspSocket& socket, const sockaddr* to, int to_length, sockaddr_storage& storage,
                    const sockaddr*& target, int& target_length) {
  target = to;
  target_length = to_length;
  if (to == nullptr || !socket.state->steered()) return 0;
  const auto destination = net::from_sockaddr(to, to_length);
  if (!destination) return 0;
  // "WSAEACCES: Requested address is a broadcast address, but the appropriate flag
  // was not set" (LPWSPSENDTO, Return value): said before any verdict is asked for.
  if (is_limited_broadcast(*destination) && !broadcast_allowed(socket)) return WSAEACCES;
  return spi().steering->redirect(socket, *destination, /*connecting=*/false, storage, target, target_length);
}

// The address a datagram from `source` is reported as: the original destination
// when it came from a relay association of the socket, else `source` unchanged.
void restore_source(const LspSocket& socket, sockaddr_storage& source, int& length) {
  if (!socket.state->has_relay_routes()) return;
  const auto from = net::from_sockaddr(reinterpret_cast<const sockaddr*>(&source), length);
  if (!from) return;
  if (auto original = socket.state->destination_for_relay(*from)) {
    length = net::to_sockaddr(*original, socket.family, source);
  }
}

}  // namespace

int WSPAPI lsp_send(SOCKET s, LPWSABUF buffers, DWORD count, LPDWORD sent, DWORD flags, LPWSAOVERLAPPED overlapped,
                    LPWSAOVERLAPPED_COMPLETION_ROUTINE routine, LPWSATHREADID thread, LPINT error) {
  auto socket = socket_or_error(s, error);
  if (!socket) return SOCKET_ERROR;
  const auto& calls = socket->provider->calls;
  // A connected datagram socket was steered when it connected (lsp_connect): its
  // lower socket is connected to the relay association if the flow is relayed.
  if (!is_overlapped_call(overlapped, routine)) {
    return calls.lpWSPSend(socket->lower, buffers, count, sent, flags, nullptr, nullptr, nullptr, error);
  }
  return spi().forwarder.run(
      make_pending_io(socket, overlapped, routine, thread, buffers, count),
      [flags](PendingIo& io, DWORD* bytes, DWORD*, int* e) {
        return io.socket->provider->calls.lpWSPSend(io.socket->lower, io.buffers.data(), static_cast<DWORD>(io.buffers.size()),
                                                     bytes, flags, &io.lower_overlapped, nullptr, nullptr, e);
      },
      sent, nullptr, error);
}

int WSPAPI lsp_send_to(SOCKET s, LPWSABUF buffers, DWORD count, LPDWORD sent, DWORD flags, const sockaddr* to, int to_length,
                       LPWSAOVERLAPPED overlapped, LPWSAOVERLAPPED_COMPLETION_ROUTINE routine, LPWSATHREADID thread,
                       LPINT error) {
  auto socket = socket_or_error(s, error);
  if (!socket) return SOCKET_ERROR;
  sockaddr_storage relay{};
  const sockaddr* target = nullptr;
  int target_length = 0;
  // "On a connection-oriented socket, the lpTo and iToLen parameters are ignored"
  // (LPWSPSENDTO, Remarks): neither steered by nor passed on.
  if (!socket->stream()) {
    if (const int refused = datagram_target(*socket, to, to_length, relay, target, target_length); refused != 0) {
      *error = refused;
      return SOCKET_ERROR;
    }
  }
  const auto& calls = socket->provider->calls;
  if (!is_overlapped_call(overlapped, routine)) {
    return calls.lpWSPSendTo(socket->lower, buffers, count, sent, flags, target, target_length, nullptr, nullptr, nullptr, error);
  }
  auto io = make_pending_io(socket, overlapped, routine, thread, buffers, count);
  if (target != nullptr) std::memcpy(&io->address, target, static_cast<std::size_t>(target_length));
  const bool has_target = target != nullptr;
  return spi().forwarder.run(
      std::move(io),
      [flags, has_target, target_length](PendingIo& io, DWORD* bytes, DWORD*, int* e) {
        return io.socket->provider->calls.lpWSPSendTo(
            io.socket->lower, io.buffers.data(), static_cast<DWORD>(io.buffers.size()), bytes, flags,
            has_target ? reinterpret_cast<const sockaddr*>(&io.address) : nullptr, has_target ? target_length : 0,
            &io.lower_overlapped, nullptr, nullptr, e);
      },
      sent, nullptr, error);
}

int WSPAPI lsp_recv(SOCKET s, LPWSABUF buffers, DWORD count, LPDWORD received, LPDWORD flags, LPWSAOVERLAPPED overlapped,
                    LPWSAOVERLAPPED_COMPLETION_ROUTINE routine, LPWSATHREADID thread, LPINT error) {
  auto socket = socket_or_error(s, error);
  if (!socket) return SOCKET_ERROR;
  const auto& calls = socket->provider->calls;
  if (!is_overlapped_call(overlapped, routine)) {
    return calls.lpWSPRecv(socket->lower, buffers, count, received, flags, nullptr, nullptr, nullptr, error);
  }
  const DWORD in_flags = flags != nullptr ? *flags : 0;
  return spi().forwarder.run(
      make_pending_io(socket, overlapped, routine, thread, buffers, count),
      [in_flags](PendingIo& io, DWORD* bytes, DWORD* out_flags, int* e) {
        *out_flags = in_flags;
        return io.socket->provider->calls.lpWSPRecv(io.socket->lower, io.buffers.data(), static_cast<DWORD>(io.buffers.size()),
                                                     bytes, out_flags, &io.lower_overlapped, nullptr, nullptr, e);
      },
      received, flags, error);
}

int WSPAPI lsp_recv_from(SOCKET s, LPWSABUF buffers, DWORD count, LPDWORD received, LPDWORD flags, sockaddr* from,
                         LPINT from_length, LPWSAOVERLAPPED overlapped, LPWSAOVERLAPPED_COMPLETION_ROUTINE routine,
                         LPWSATHREADID thread, LPINT error) {
  auto socket = socket_or_error(s, error);
  if (!socket) return SOCKET_ERROR;
  const auto& calls = socket->provider->calls;
  if (!is_overlapped_call(overlapped, routine)) {
    sockaddr_storage source{};
    int length = sizeof source;
    const int rc = calls.lpWSPRecvFrom(socket->lower, buffers, count, received, flags, reinterpret_cast<sockaddr*>(&source),
                                       &length, nullptr, nullptr, nullptr, error);
    if (rc == 0) {
      restore_source(*socket, source, length);
      net::copy_out(source, length, from, from_length);
    }
    return rc;
  }
  auto io = make_pending_io(socket, overlapped, routine, thread, buffers, count);
  // The source is reported once the datagram is in, restored first; the program's
  // address buffer must stay valid until then, as its buffers must.
  io->finish = [from, from_length](PendingIo& done, DWORD) {
    int length = done.address_length;
    restore_source(*done.socket, done.address, length);
    net::copy_out(done.address, length, from, from_length);
  };
  const DWORD in_flags = flags != nullptr ? *flags : 0;
  return spi().forwarder.run(
      std::move(io),
      [in_flags](PendingIo& io, DWORD* bytes, DWORD* out_flags, int* e) {
        *out_flags = in_flags;
        return io.socket->provider->calls.lpWSPRecvFrom(
            io.socket->lower, io.buffers.data(), static_cast<DWORD>(io.buffers.size()), bytes, out_flags,
            reinterpret_cast<sockaddr*>(&io.address), &io.address_length, &io.lower_overlapped, nullptr, nullptr, e);
      },
      received, flags, error);
}

BOOL WSPAPI lsp_get_overlapped_result(SOCKET s, LPWSAOVERLAPPED overlapped, LPDWORD bytes, BOOL wait, LPDWORD flags,
                                      LPINT error) {
  if (!socket_or_error(s, error)) return FALSE;
  return overlapped_result(overlapped, bytes, wait, flags, error);
}

}  // namespace sluice::lsp

namespace sluice::lsp {

namespace {

// Extension functions report errors through WSASetLastError, not an lpErrno.
int fail(int error) {
  WSASetLastError(error);
  return SOCKET_ERROR;
}

// A completion routine given to an extension function runs on the calling thread,
// which the LSP must open itself: there is no lpThreadId.
bool open_current_thread(PendingIo& io) {
  int error = 0;
  if (io.routine == nullptr) return true;
  io.close_thread = spi().upcalls.lpWPUOpenCurrentThread(&io.thread, &error) == 0;
  return io.close_thread;
}

}  // namespace

INT WSAAPI lsp_wsa_send_msg(SOCKET s, LPWSAMSG message, DWORD flags, LPDWORD sent, LPWSAOVERLAPPED overlapped,
                            LPWSAOVERLAPPED_COMPLETION_ROUTINE routine) {
  int error = 0;
  auto socket = socket_or_error(s, &error);
  if (!socket) return fail(error);
  if (message == nullptr) return fail(WSAEFAULT);
  auto lower_send = reinterpret_cast<LPFN_WSASENDMSG>(socket->provider->extension(socket->lower, WSAID_WSASENDMSG));
  if (lower_send == nullptr) return fail(WSAEOPNOTSUPP);
  WSAMSG copy = *message;
  sockaddr_storage relay{};
  const sockaddr* target = nullptr;
  int target_length = 0;
  if (!socket->stream()) {
    if (const int refused = datagram_target(*socket, message->name, message->namelen, relay, target, target_length)) {
      return fail(refused);
    }
    copy.name = const_cast<sockaddr*>(target);
    copy.namelen = target_length;
  }
  if (!is_overlapped_call(overlapped, routine)) return lower_send(socket->lower, &copy, flags, sent, nullptr, nullptr);

  auto io = make_pending_io(socket, overlapped, routine, nullptr, copy.lpBuffers, copy.dwBufferCount);
  if (!open_current_thread(*io)) return fail(WSAEINVAL);
  io->message = copy;
  io->message.lpBuffers = io->buffers.data();
  if (target != nullptr) {
    std::memcpy(&io->address, target, static_cast<std::size_t>(target_length));
    io->message.name = reinterpret_cast<sockaddr*>(&io->address);
  }
  const int rc = spi().forwarder.run(
      std::move(io),
      [lower_send, flags](PendingIo& io, DWORD* bytes, DWORD*, int* e) {
        const int r = lower_send(io.socket->lower, &io.message, flags, bytes, &io.lower_overlapped, nullptr);
        if (r != 0) *e = WSAGetLastError();
        return r;
      },
      sent, nullptr, &error);
  return rc == 0 ? 0 : fail(error);
}

INT WSAAPI lsp_wsa_recv_msg(SOCKET s, LPWSAMSG message, LPDWORD received, LPWSAOVERLAPPED overlapped,
                            LPWSAOVERLAPPED_COMPLETION_ROUTINE routine) {
  int error = 0;
  auto socket = socket_or_error(s, &error);
  if (!socket) return fail(error);
  if (message == nullptr) return fail(WSAEFAULT);
  auto lower_recv = reinterpret_cast<LPFN_WSARECVMSG>(socket->provider->extension(socket->lower, WSAID_WSARECVMSG));
  if (lower_recv == nullptr) return fail(WSAEOPNOTSUPP);
  // Received into the LSP's own address buffer, then restored and copied out.
  auto report_back = [message](const LspSocket& socket, const WSAMSG& done, sockaddr_storage& source, int length) {
    restore_source(socket, source, length);
    if (message->name != nullptr) net::copy_out(source, length, message->name, &message->namelen);
    message->dwFlags = done.dwFlags;
    message->Control.len = done.Control.len;
  };
  if (!is_overlapped_call(overlapped, routine)) {
    sockaddr_storage source{};
    WSAMSG copy = *message;
    copy.name = reinterpret_cast<sockaddr*>(&source);
    copy.namelen = sizeof source;
    const int rc = lower_recv(socket->lower, &copy, received, nullptr, nullptr);
    if (rc == 0) report_back(*socket, copy, source, copy.namelen);
    return rc;
  }
  auto io = make_pending_io(socket, overlapped, routine, nullptr, message->lpBuffers, message->dwBufferCount);
  if (!open_current_thread(*io)) return fail(WSAEINVAL);
  io->message = *message;
  io->message.lpBuffers = io->buffers.data();
  io->message.name = reinterpret_cast<sockaddr*>(&io->address);
  io->message.namelen = sizeof io->address;
  io->finish = [report_back](PendingIo& done, DWORD) { report_back(*done.socket, done.message, done.address, done.message.namelen); };
  const int rc = spi().forwarder.run(
      std::move(io),
      [lower_recv](PendingIo& io, DWORD* bytes, DWORD*, int* e) {
        const int r = lower_recv(io.socket->lower, &io.message, bytes, &io.lower_overlapped, nullptr);
        if (r != 0) *e = WSAGetLastError();
        return r;
      },
      received, nullptr, &error);
  return rc == 0 ? 0 : fail(error);
}

}  // namespace sluice::lsp
