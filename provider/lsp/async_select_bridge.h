#pragma once

// WSPAsyncSelect for the LSP's sockets. The lower provider would post its window
// messages with its own socket handle, which the program has never seen; so the
// LSP asks the lower provider for the same network events through WSPEventSelect
// (whose events are re-enabled by the same calls as AsyncSelect's messages) and a
// thread of its own posts each one to the program's window, with the program's
// handle, through the WPUPostMessage upcall.

#include <winsock2.h>
#include <ws2spi.h>

#include <memory>
#include <mutex>
#include <vector>

#include "provider/lsp/lsp_socket.h"

namespace sluice::lsp {

class AsyncSelectBridge {
 public:
  ~AsyncSelectBridge();

  // Starts (or, with events == 0, ends) message notification for `socket`.
  int select(const std::shared_ptr<LspSocket>& socket, HWND window, unsigned int message, long events,
             LPWPUPOSTMESSAGE post, LPINT error);
  // Forgets a socket being closed.
  void forget(SOCKET app);

 private:
  struct Watch {
    std::shared_ptr<LspSocket> socket;
    HWND window;
    unsigned int message;
    HANDLE event;
  };
  static DWORD WINAPI thread_main(void* self);
  void run();
  void ensure_thread();

  std::mutex mutex_;
  std::vector<Watch> watches_;
  LPWPUPOSTMESSAGE post_ = nullptr;
  HANDLE wake_ = nullptr;
  HANDLE thread_ = nullptr;
  bool stopping_ = false;
};

}  // namespace sluice::lsp
