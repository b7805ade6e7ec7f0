#include "provider/lsp/flow_releaser.h"

namespace sluice::lsp {

bool FlowReleaser::start(Release release) {
  std::lock_guard lock(mutex_);
  release_ = release;
  if (thread_ != nullptr) return true;
  stopping_ = false;
  wake_ = CreateEventW(nullptr, FALSE, FALSE, nullptr);
  if (wake_ == nullptr) return false;
  thread_ = CreateThread(nullptr, 0, &FlowReleaser::thread_main, this, 0, nullptr);
  if (thread_ == nullptr) {
    CloseHandle(wake_);
    wake_ = nullptr;
    return false;
  }
  return true;
}

void FlowReleaser::stop() {
  HANDLE thread = nullptr;
  {
    std::lock_guard lock(mutex_);
    if (thread_ == nullptr) return;
    stopping_ = true;
    stop_deadline_ = std::chrono::steady_clock::now() + kStopBudget;
    thread = thread_;
  }
  SetEvent(wake_);
  // Each release is bounded (ServiceClient::kReleaseTimeout, after a registration in
  // progress), and the queue is dropped past the budget: this wait ends.
  WaitForSingleObject(thread, INFINITE);
  std::lock_guard lock(mutex_);
  CloseHandle(thread_);
  CloseHandle(wake_);
  thread_ = wake_ = nullptr;
  queue_.clear();
}

void FlowReleaser::post(std::uint64_t flow_id) {
  Release inline_release = nullptr;
  {
    std::lock_guard lock(mutex_);
    if (thread_ != nullptr && !stopping_ && queue_.size() < kMaxQueued) {
      queue_.push_back(flow_id);
      SetEvent(wake_);
      return;
    }
    inline_release = release_;
  }
  if (inline_release != nullptr) inline_release(flow_id);
}

DWORD WINAPI FlowReleaser::thread_main(void* self) {
  static_cast<FlowReleaser*>(self)->run();
  return 0;
}

void FlowReleaser::run() {
  for (;;) {
    std::uint64_t flow_id = 0;
    Release release = nullptr;
    {
      std::lock_guard lock(mutex_);
      if (stopping_ && (queue_.empty() || std::chrono::steady_clock::now() >= stop_deadline_)) {
        queue_.clear();  // the service's own bookkeeping has to do for these
        return;
      }
      if (!queue_.empty()) {
        flow_id = queue_.front();
        queue_.pop_front();
        release = release_;
      }
    }
    if (release == nullptr) {
      WaitForSingleObject(wake_, INFINITE);
      continue;
    }
    release(flow_id);
  }
}

}  // namespace sluice::lsp
