#include "service/relay/iocp_relay.h"

#include <spdlog/spdlog.h>

#include <vector>

namespace sluice::relay::iocp {

namespace {

// Buffers of 64 KiB hold any datagram (UDP payloads are at most 65,527 bytes) and a
// good share of a TCP window; up to 16 MiB of idle ones are kept for reuse.
constexpr std::size_t kBufferBytes = 64 * 1024;
constexpr std::size_t kIdleBuffers = 256;

}  // namespace

Context::Context(EngineConfig engine_config) : config(std::move(engine_config)), buffers(kBufferBytes, kIdleBuffers) {}

void Context::attach(net::win::Socket& socket) {
  port.associate(socket.handle);
  if (config.inline_completions) net::win::skip_completion_port_on_success(socket);
}

void Context::adopt(std::shared_ptr<Relay> relay) {
  bool stopping;
  {
    std::lock_guard lock(mutex_);
    relays_[relay->id()] = relay;
    counters.flows_active++;
    stopping = stopping_;
  }
  if (stopping) {
    relay->close(FlowState::closed, "the relay service stopped");
    return;
  }
  port.post([relay = std::move(relay)] { relay->start(); });
}

std::shared_ptr<Relay> Context::find(std::uint64_t id) {
  std::lock_guard lock(mutex_);
  auto it = relays_.find(id);
  return it == relays_.end() ? nullptr : it->second;
}

bool Context::close_all_and_wait(const std::string& why, std::chrono::milliseconds bound) {
  std::vector<std::shared_ptr<Relay>> open;
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
    for (auto& [id, relay] : relays_) open.push_back(relay);
  }
  for (auto& relay : open) relay->close(FlowState::closed, why);
  open.clear();
  std::unique_lock lock(mutex_);
  if (emptied_.wait_for(lock, bound, [this] { return relays_.empty(); })) return true;
  // Leaked on purpose: freeing them would hand memory the kernel may still write to
  // (their OVERLAPPEDs and buffers) back to the heap.
  auto* abandoned = new std::vector<std::shared_ptr<Relay>>();
  for (auto& [id, relay] : relays_) abandoned->push_back(std::move(relay));
  relays_.clear();
  return false;
}

void Context::forget(std::uint64_t id) {
  std::lock_guard lock(mutex_);
  relays_.erase(id);
  if (relays_.empty()) emptied_.notify_all();
}

Relay::Relay(Context& context, std::shared_ptr<Flow> flow) : context_(context), flow_(std::move(flow)) {}

void Relay::start() {
  std::shared_ptr<Relay> keep;
  std::lock_guard lock(mutex_);
  if (!finished_) {
    try {
      start_locked();
    } catch (const std::exception& e) {
      end_locked(FlowState::failed, e.what());
    }
  }
  leave_if_done_locked(keep);
}

void Relay::close(FlowState state, const std::string& why) {
  std::shared_ptr<Relay> keep;  // declared first: released after the lock
  std::lock_guard lock(mutex_);
  end_locked(state, why);
  leave_if_done_locked(keep);
}

void Relay::on_completion(Operation& operation, DWORD bytes, bool succeeded) {
  std::shared_ptr<Relay> keep;
  std::lock_guard lock(mutex_);
  --outstanding_;
  if (!finished_) {
    try {
      completed_locked(operation, bytes, succeeded);
    } catch (const std::exception& e) {
      end_locked(FlowState::failed, e.what());
    }
  }
  leave_if_done_locked(keep);
}

void Relay::on_timer() {
  std::shared_ptr<Relay> keep;
  std::lock_guard lock(mutex_);
  if (!finished_) {
    try {
      timer_locked(Clock::now());
    } catch (const std::exception& e) {
      end_locked(FlowState::failed, e.what());
    }
  }
  leave_if_done_locked(keep);
}

void Relay::on_resume() {
  std::shared_ptr<Relay> keep;
  std::lock_guard lock(mutex_);
  if (!finished_) {
    try {
      resume_locked();
    } catch (const std::exception& e) {
      end_locked(FlowState::failed, e.what());
    }
  }
  leave_if_done_locked(keep);
}

void Relay::end_locked(FlowState state, const std::string& why) {
  if (finished_) return;
  finished_ = true;
  // Anything but a clean end is passed on as a reset, so neither program mistakes a
  // cut-off stream for a complete one.
  close_sockets_locked(state == FlowState::closed && why.empty());
  if (!why.empty()) flow_->error = why;
  flow_->state = state;
  context_.counters.flows_active--;
}

net::win::Started Relay::track(net::win::Started started) {
  if (started.kind == net::win::Started::pending) ++outstanding_;
  return started;
}

void Relay::wake_at(Clock::time_point when) {
  context_.port.schedule(when, [weak = weak_from_this()] {
    if (auto self = weak.lock()) self->on_timer();
  });
}

void Relay::yield() {
  context_.port.post([self = shared_from_this()] { self->on_resume(); });
}

void Relay::leave_if_done_locked(std::shared_ptr<Relay>& keep) {
  if (!finished_ || outstanding_ > 0 || left_) return;
  left_ = true;
  keep = shared_from_this();
  context_.forget(id());
}

}  // namespace sluice::relay::iocp
