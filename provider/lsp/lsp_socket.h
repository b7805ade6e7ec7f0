#pragma once

// The sockets the LSP hands out. The LSP is not IFS: a program holds a handle made
// by WPUCreateSocketHandle, and every call on it is forwarded to the lower
// provider's own socket. That is what lets the LSP see (and finish) every overlapped
// operation itself, so a relayed datagram's source can be restored before the
// program is told it arrived, by event, completion routine or completion port alike.

#include <winsock2.h>
#include <ws2spi.h>

#include <atomic>
#include <memory>
#include <shared_mutex>
#include <unordered_map>

#include "provider/core/socket_state.h"

namespace sluice::lsp {

struct LowerProvider;

struct LspSocket {
  LspSocket() = default;
  LspSocket(const LspSocket&) = delete;
  LspSocket& operator=(const LspSocket&) = delete;
  // Gives the program's handle back to ws2_32. Runs when the last holder lets go:
  // an overlapped operation still being reported holds the socket, so an aborted
  // operation's completion reaches the program's handle before it is closed.
  ~LspSocket();

  SOCKET app = INVALID_SOCKET;    // the program's handle
  SOCKET lower = INVALID_SOCKET;  // the lower provider's socket
  LowerProvider* provider = nullptr;
  int family = 0;
  int type = 0;
  // Whether the lower socket is on the LSP's completion port, so overlapped
  // operations can be forwarded; false if the lower handle cannot be associated.
  bool forwards_overlapped = false;
  std::atomic<bool> closed{false};  // by the program: what is still pending was aborted
  std::shared_ptr<provider::SocketState> state;  // verdicts and relay routes

  bool stream() const { return type == SOCK_STREAM; }
};

// Program handle -> socket. Lookups hand out shared ownership, so a socket closed
// by one thread stays valid for a call another thread is still in.
class SocketRegistry {
 public:
  void add(std::shared_ptr<LspSocket> socket);
  std::shared_ptr<LspSocket> find(SOCKET app) const;
  std::shared_ptr<LspSocket> remove(SOCKET app);
  // The program's handle for a lower socket (select() results, accept's listener).
  SOCKET app_handle_of(SOCKET lower) const;

 private:
  mutable std::shared_mutex mutex_;
  std::unordered_map<SOCKET, std::shared_ptr<LspSocket>> by_app_;
  std::unordered_map<SOCKET, SOCKET> app_by_lower_;
};

}  // namespace sluice::lsp
