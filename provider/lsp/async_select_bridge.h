#pragma once

// WSPAsyncSelect for the LSP's sockets. The lower provider would post its window
// messages with its own socket handle, which the program has never seen; so the
// LSP asks the lower provider for the same network events through WSPEventSelect
// (whose events are re-enabled by the same calls as AsyncSelect's messages) and
// threads of its own post each one to the program's window, with the program's
// handle, through the WPUPostMessage upcall.
//
// One wait covers at most MAXIMUM_WAIT_OBJECTS handles, so sockets are watched in
// groups of kGroupSize, each with its own thread and wake event: any number of
// sockets gets its messages. stop() (WSPCleanup) ends every thread, since ws2_32
// unloads the DLL after the last WSPCleanup.

#include <winsock2.h>
#include <ws2spi.h>

#include <cstddef>
#include <memory>
#include <mutex>
#include <vector>

#include "provider/lsp/lsp_socket.h"

namespace sluice::lsp {

class AsyncSelectBridge {
 public:
  // The group's wake event takes the last slot of its wait.
  static constexpr std::size_t kGroupSize = MAXIMUM_WAIT_OBJECTS - 1;

  // Starts (or, with events == 0, ends) message notification for `socket`.
  int select(const std::shared_ptr<LspSocket>& socket, HWND window, unsigned int message, long events,
             LPWPUPOSTMESSAGE post, LPINT error);
  // Forgets a socket being closed.
  void forget(SOCKET app);
  // Ends every thread and forgets every socket; select() starts afresh after it.
  void stop();

 private:
  struct Watch {
    std::shared_ptr<LspSocket> socket;
    HWND window;
    unsigned int message;
    HANDLE event;
  };
  struct Group {
    AsyncSelectBridge* bridge = nullptr;
    std::vector<Watch> watches;
    HANDLE wake = nullptr;
    HANDLE thread = nullptr;
    bool stopping = false;  // under the bridge's mutex
  };
  static DWORD WINAPI thread_main(void* group);
  void run(Group& group);
  // The group holding `app`'s watch (and the watch), or nulls.
  std::pair<Group*, Watch*> find_locked(SOCKET app);
  // A group with room for one more watch, its thread started; null if none can be had.
  Group* group_with_room_locked();
  void erase_locked(Group& group, Watch* watch);

  std::mutex mutex_;
  std::vector<std::unique_ptr<Group>> groups_;  // by pointer: their threads hold them
  LPWPUPOSTMESSAGE post_ = nullptr;
};

}  // namespace sluice::lsp
