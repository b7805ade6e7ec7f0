#pragma once

// How the host asks the running service body to read its configuration again:
// SIGHUP on POSIX, SERVICE_CONTROL_PARAMCHANGE on Windows. The body installs the
// handler while it runs; the host fires it from its own thread.

#include <functional>
#include <mutex>

namespace sluice::service {

class ReloadTrigger {
 public:
  // Installs (or, with an empty function, removes) what fire() runs.
  void set(std::function<void()> handler) {
    std::lock_guard lock(mutex_);
    handler_ = std::move(handler);
  }

  // Runs the handler, if one is installed, on the calling thread. Returns whether
  // there was one. Serialised: a second request waits for the first.
  bool fire() {
    std::lock_guard lock(mutex_);
    if (!handler_) return false;
    handler_();
    return true;
  }

 private:
  std::mutex mutex_;
  std::function<void()> handler_;
};

}  // namespace sluice::service
