#pragma once

// Overlapped operations on the LSP's sockets. The lower provider completes an
// operation of ours (its own WSAOVERLAPPED, its own copy of the buffers' WSABUF
// array) on the LSP's completion port; the forwarder then finishes it for the
// program the way the program asked (event or completion port through
// WPUCompleteOverlappedRequest, completion routine through WPUQueueApc), after
// any rewriting the operation needs (a relayed datagram's source address).
//
// The seeds' rules kept here (LPWSPSENDTO / LPWSPSEND, "Return value" and
// "Remarks"):
//  - an operation that completes at once returns 0 with the byte count, and its
//    completion "will have already been queued" when the call returns;
//  - otherwise SOCKET_ERROR and WSA_IO_PENDING, and the byte count is not set;
//  - any other error means no operation was started and no completion will come;
//  - the WSABUF array is transient: it is copied before the call returns;
//  - the WSATHREADID is stored by value, not by pointer.

#include <winsock2.h>
#include <ws2spi.h>

#include <atomic>
#include <functional>
#include <memory>
#include <vector>

#include "provider/lsp/lsp_socket.h"

namespace sluice::lsp {

struct PendingIo {
  WSAOVERLAPPED lower_overlapped{};  // first: the port hands this pointer back
  std::shared_ptr<LspSocket> socket;
  LPWSAOVERLAPPED app_overlapped = nullptr;
  LPWSAOVERLAPPED_COMPLETION_ROUTINE routine = nullptr;
  WSATHREADID thread{};
  bool close_thread = false;  // opened by the LSP (extension functions have no lpThreadId)
  std::vector<WSABUF> buffers;  // the program's WSABUF array, captured
  // Runs on success before the program is told, with the byte count (restores a
  // relayed datagram's source, for one).
  std::function<void(PendingIo&, DWORD bytes)> finish;
  // Scratch the operation's lower call writes into (a source address, a WSAMSG).
  sockaddr_storage address{};
  INT address_length = sizeof(sockaddr_storage);
  WSAMSG message{};

  // Set by the issuer once the lower call returned and it knows what the call says:
  // the port waits for it, so an operation the call failed is never reported.
  std::atomic<bool> started{false};
  std::atomic<bool> claimed{false};   // one of issuer and port reports it
  std::atomic<bool> reported{false};  // and has finished doing so
  std::atomic<int> holders{2};        // issuer and port
};

// A call is overlapped when it names an overlapped structure or a completion
// routine; with neither, the socket is treated as nonoverlapped (LPWSPSENDTO, Remarks).
inline bool is_overlapped_call(LPWSAOVERLAPPED overlapped, LPWSAOVERLAPPED_COMPLETION_ROUTINE routine) {
  return overlapped != nullptr || routine != nullptr;
}

// An operation of `socket` for the program's `overlapped`, capturing what the seeds
// say must not be kept by pointer: the thread id and the WSABUF array.
std::unique_ptr<PendingIo> make_pending_io(const std::shared_ptr<LspSocket>& socket, LPWSAOVERLAPPED overlapped,
                                           LPWSAOVERLAPPED_COMPLETION_ROUTINE routine = nullptr,
                                           LPWSATHREADID thread = nullptr, LPWSABUF buffers = nullptr, DWORD count = 0);

// Starts the lower call: `start` is given the operation and returns 0 (completed,
// *bytes and *flags set) or SOCKET_ERROR with *error (WSA_IO_PENDING: started).
using StartLower = std::function<int(PendingIo& io, DWORD* bytes, DWORD* flags, int* error)>;

class CompletionForwarder {
 public:
  // Creates the port and its thread. False when either cannot be had.
  bool start(const WSPUPCALLTABLE& upcalls, LPWPUCOMPLETEOVERLAPPEDREQUEST complete);
  void stop();

  // Puts a lower socket on the port; false if its handle cannot be associated.
  bool adopt(SOCKET lower);

  // Runs an overlapped operation for the program; returns what the SPI call
  // returns, with *bytes (and *flags when given) set only on immediate completion.
  int run(std::unique_ptr<PendingIo> io, const StartLower& start, LPDWORD bytes, LPDWORD flags, LPINT error);

 private:
  static DWORD WINAPI thread_main(void* self);
  void on_completion(PendingIo* io);
  void report(PendingIo& io, int error, DWORD bytes, DWORD flags);
  static void release(PendingIo* io);

  HANDLE port_ = nullptr;
  HANDLE thread_ = nullptr;
  WSPUPCALLTABLE upcalls_{};
  LPWPUCOMPLETEOVERLAPPEDREQUEST complete_ = nullptr;
};

// Marks an overlapped structure as in progress, as WSPGetOverlappedResult expects.
void begin_overlapped(LPWSAOVERLAPPED overlapped);

// WSPGetOverlappedResult for the LSP's sockets.
BOOL overlapped_result(LPWSAOVERLAPPED overlapped, LPDWORD bytes, BOOL wait, LPDWORD flags, LPINT error);

}  // namespace sluice::lsp
