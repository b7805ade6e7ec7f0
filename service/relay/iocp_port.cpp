#include "service/relay/iocp_port.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <memory>

#include "net/win_socket.h"

namespace sluice::relay::iocp {

namespace {

// The completion key says what a packet is. Sockets are associated with kIo and
// their packets carry an Operation's OVERLAPPED; kCommand packets carry a
// std::function in place of the OVERLAPPED pointer (never dereferenced as one).
constexpr ULONG_PTR kIo = 0;
constexpr ULONG_PTR kCommand = 1;
constexpr ULONG_PTR kQuit = 2;

constexpr ULONG kBatch = 64;

using Command = std::function<void()>;

void run(Command& command) {
  try {
    command();
  } catch (const std::exception& e) {
    SPDLOG_ERROR("relay: a posted command failed: {}", e.what());
  }
}

}  // namespace

Port::Port() {
  port_ = CreateIoCompletionPort(INVALID_HANDLE_VALUE, nullptr, 0, 0);
  if (port_ == nullptr) net::win::throw_error(static_cast<int>(GetLastError()), "CreateIoCompletionPort");
}

Port::~Port() {
  stop();
  CloseHandle(port_);
}

void Port::associate(SOCKET socket) {
  if (CreateIoCompletionPort(reinterpret_cast<HANDLE>(socket), port_, kIo, 0) != port_) {
    net::win::throw_error(static_cast<int>(GetLastError()), "associating a socket with the completion port");
  }
}

void Port::start(unsigned workers) {
  timer_thread_ = std::thread([this] { keep_time(); });
  for (unsigned i = 0; i < workers; ++i) workers_.emplace_back([this] { work(); });
}

void Port::stop() {
  {
    std::lock_guard lock(timers_mutex_);
    stopping_ = true;
    timers_.clear();
  }
  timers_changed_.notify_all();
  if (timer_thread_.joinable()) timer_thread_.join();
  for (std::size_t i = 0; i < workers_.size(); ++i) PostQueuedCompletionStatus(port_, 0, kQuit, nullptr);
  for (auto& worker : workers_) worker.join();
  workers_.clear();
  drop_queued_commands();
}

void Port::post(std::function<void()> command) {
  auto packet = std::make_unique<Command>(std::move(command));
  if (!PostQueuedCompletionStatus(port_, 0, kCommand, reinterpret_cast<OVERLAPPED*>(packet.get()))) {
    SPDLOG_ERROR("relay: PostQueuedCompletionStatus: {}", net::win::error_text(static_cast<int>(GetLastError())));
    return;
  }
  packet.release();  // the worker that takes the packet owns it
}

void Port::schedule(Clock::time_point when, std::function<void()> command) {
  {
    std::lock_guard lock(timers_mutex_);
    if (stopping_) return;
    timers_.push_back(Timer{when, next_sequence_++, std::move(command)});
    std::push_heap(timers_.begin(), timers_.end(), std::greater<>{});
  }
  timers_changed_.notify_one();
}

void Port::keep_time() {
  std::unique_lock lock(timers_mutex_);
  while (!stopping_) {
    if (timers_.empty()) {
      timers_changed_.wait(lock);
      continue;
    }
    const Clock::time_point when = timers_.front().when;
    if (Clock::now() < when) {
      timers_changed_.wait_until(lock, when);
      continue;
    }
    std::pop_heap(timers_.begin(), timers_.end(), std::greater<>{});
    Command command = std::move(timers_.back().command);
    timers_.pop_back();
    lock.unlock();
    post(std::move(command));
    lock.lock();
  }
}

void Port::work() {
  OVERLAPPED_ENTRY entries[kBatch];
  for (;;) {
    ULONG count = 0;
    if (!GetQueuedCompletionStatusEx(port_, entries, kBatch, &count, INFINITE, FALSE)) {
      SPDLOG_ERROR("relay: GetQueuedCompletionStatusEx: {}", net::win::error_text(static_cast<int>(GetLastError())));
      Sleep(10);  // whatever it was, do not spin on it
      continue;
    }
    unsigned quits = 0;
    for (ULONG i = 0; i < count; ++i) {
      const OVERLAPPED_ENTRY& entry = entries[i];
      if (entry.lpCompletionKey == kQuit) {
        ++quits;
      } else if (entry.lpCompletionKey == kCommand) {
        std::unique_ptr<Command> command(reinterpret_cast<Command*>(entry.lpOverlapped));
        run(*command);
      } else {
        Operation* operation = CONTAINING_RECORD(entry.lpOverlapped, Operation, overlapped);
        // Internal holds the operation's NTSTATUS; anything but STATUS_SUCCESS (0) is
        // looked at by the target, which can ask the socket what it means.
        const bool succeeded = entry.lpOverlapped->Internal == 0;
        try {
          operation->target->on_completion(*operation, entry.dwNumberOfBytesTransferred, succeeded);
        } catch (const std::exception& e) {
          SPDLOG_ERROR("relay: completion handler failed: {}", e.what());
        }
      }
    }
    if (quits > 0) {
      // One quit packet per worker was posted; a batch that took several passes the
      // others on, so every worker gets one.
      for (unsigned i = 1; i < quits; ++i) PostQueuedCompletionStatus(port_, 0, kQuit, nullptr);
      return;
    }
  }
}

void Port::drop_queued_commands() {
  OVERLAPPED_ENTRY entries[kBatch];
  ULONG count = 0;
  while (GetQueuedCompletionStatusEx(port_, entries, kBatch, &count, 0, FALSE) && count > 0) {
    for (ULONG i = 0; i < count; ++i) {
      if (entries[i].lpCompletionKey == kCommand) {
        delete reinterpret_cast<Command*>(entries[i].lpOverlapped);
      } else if (entries[i].lpCompletionKey == kIo) {
        SPDLOG_ERROR("relay: an I/O completion arrived after the workers stopped");
      }
    }
  }
}

}  // namespace sluice::relay::iocp
