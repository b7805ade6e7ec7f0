#pragma once

#include <chrono>
#include <condition_variable>
#include <mutex>

namespace sluice {

// A one-shot "please stop" flag that threads can wait on. Set from signal-handling
// threads, the Windows service control handler, or tests; never from a signal handler.
class StopSignal {
 public:
  void request() {
    {
      std::lock_guard lock(mutex_);
      requested_ = true;
    }
    cv_.notify_all();
  }

  bool requested() const {
    std::lock_guard lock(mutex_);
    return requested_;
  }

  void wait() const {
    std::unique_lock lock(mutex_);
    cv_.wait(lock, [&] { return requested_; });
  }

  // Returns true when a stop was requested before the timeout.
  template <class Rep, class Period>
  bool wait_for(std::chrono::duration<Rep, Period> timeout) const {
    std::unique_lock lock(mutex_);
    return cv_.wait_for(lock, timeout, [&] { return requested_; });
  }

 private:
  mutable std::mutex mutex_;
  mutable std::condition_variable cv_;
  bool requested_ = false;
};

}  // namespace sluice
