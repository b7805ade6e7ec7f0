#pragma once

// The tasks other threads hand an event server's thread (EventServer::post), and its
// stop flag: one queue and one lock for both, so a task posted after stop() is
// dropped, never run against a server being torn down. Each backend supplies how its
// thread is woken (an eventfd, a completion packet).

#include <atomic>
#include <deque>
#include <functional>
#include <mutex>
#include <utility>

namespace sluice::transport {

class PostedTasks {
 public:
  explicit PostedTasks(std::function<void()> wake) : wake_(std::move(wake)) {}

  // Any thread.
  void post(std::function<void()> task) {
    std::lock_guard lock(mutex_);
    if (stopped_.load()) return;
    tasks_.push_back(std::move(task));
    wake_();
  }
  void stop() {
    std::lock_guard lock(mutex_);
    stopped_.store(true);
    wake_();
  }
  bool stopped() const { return stopped_.load(); }

  // The server's thread: runs what was posted so far, `after_each` after every task.
  template <typename After>
  void run(After&& after_each) {
    std::deque<std::function<void()>> tasks;
    {
      std::lock_guard lock(mutex_);
      tasks.swap(tasks_);
    }
    for (auto& task : tasks) {
      task();
      after_each();
    }
  }

 private:
  std::function<void()> wake_;
  std::mutex mutex_;
  std::deque<std::function<void()>> tasks_;
  std::atomic<bool> stopped_{false};
};

}  // namespace sluice::transport
