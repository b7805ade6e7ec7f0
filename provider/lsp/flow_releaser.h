#pragma once

// Flow releases, off the threads that let go of a socket. A relayed socket's
// association is released when the last holder of its state lets go, and that is
// often the completion forwarder, reporting the socket's last (aborted) operation.
// A release is pipe I/O to sluiced under the registration client's lock, which a
// registration on another thread may hold for its whole timeout: on the forwarder it
// would hold up every overlapped completion of the process. So releases queue here
// and one thread of their own sends them.
//
// Bounded: at most kMaxQueued wait; past that the releasing thread sends its own (the
// service still hears of every flow; memory stays bounded). stop() gives the queue
// kStopBudget to drain, then drops what is left: WSPCleanup must not wait on a
// silent service, and a thread of ours must not outlive the DLL.

#include <winsock2.h>

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <mutex>

namespace sluice::lsp {

class FlowReleaser {
 public:
  using Release = void (*)(std::uint64_t flow_id);
  static constexpr std::size_t kMaxQueued = 4096;
  static constexpr std::chrono::milliseconds kStopBudget{1000};

  // Starts the thread that calls `release`; false (and releases sent inline by
  // post()) when no thread can be had.
  bool start(Release release);
  // Ends the thread, after draining what it can within kStopBudget.
  void stop();

  // Queues `flow_id` for release; sends it on this thread when the queue is full or
  // no thread runs.
  void post(std::uint64_t flow_id);

 private:
  static DWORD WINAPI thread_main(void* self);
  void run();

  std::mutex mutex_;
  std::deque<std::uint64_t> queue_;
  Release release_ = nullptr;
  bool stopping_ = false;
  std::chrono::steady_clock::time_point stop_deadline_{};
  HANDLE wake_ = nullptr;
  HANDLE thread_ = nullptr;
};

}  // namespace sluice::lsp
