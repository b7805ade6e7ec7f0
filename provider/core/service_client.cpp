#include "provider/core/service_client.h"

namespace sluice::provider {

namespace {

// Set while this thread holds a client's lock (see lock_unless_held).
thread_local bool in_client_call = false;

class ClientCall {
 public:
  ClientCall() { in_client_call = true; }
  ~ClientCall() { in_client_call = false; }
  ClientCall(const ClientCall&) = delete;
  ClientCall& operator=(const ClientCall&) = delete;
};

}  // namespace

std::unique_lock<std::mutex> ServiceClient::lock_unless_held() {
  std::unique_lock lock(mutex_, std::defer_lock);
  if (!in_client_call) lock.lock();
  return lock;
}

void ServiceClient::after_fork_in_child() {
  // The connection is shared with the parent: closing our copy leaves its own be.
  disconnect_locked();
  mutex_.unlock();
}

bool ServiceClient::connect_locked(Clock::time_point deadline, bool* absent) {
  if (channel_.is_open()) return true;
  if (!channel_.connect(deadline, absent)) return false;
  decoder_ = protocol::FrameDecoder();  // nothing of an earlier connection is read on this one
  return true;
}

void ServiceClient::disconnect_locked() {
  channel_.disconnect();
  decoder_ = protocol::FrameDecoder();
}

bool ServiceClient::receive_locked(std::string& payload, Clock::time_point deadline) {
  char buffer[4096];
  for (;;) {
    try {
      if (decoder_.next(payload)) return true;
    } catch (const protocol::FrameTooLarge&) {
      return false;
    }
    if (Clock::now() >= deadline) return false;
    std::size_t received = 0;
    // false: the service closed the connection (idle timeout, restart), or was silent.
    if (!channel_.receive(buffer, sizeof buffer, &received, deadline)) return false;
    decoder_.feed(buffer, received);
  }
}

std::optional<RegisterAnswer> ServiceClient::register_flow(const RegisterRequest& request, std::chrono::milliseconds timeout) {
  const PreservedError preserved(errors_);
  const auto deadline = Clock::now() + timeout;
  std::optional<RegisterAnswer> answer;
  try {
    std::lock_guard lock(mutex_);
    const ClientCall call;
    for (int attempt = 0; attempt < 2 && !answer; ++attempt) {
      const bool reused = channel_.is_open();
      if (!connect_locked(deadline)) break;
      const std::int64_t id = next_id_++;
      std::string reply;
      if (channel_.send(protocol::encode_frame(encode_register(request, id)), deadline) && receive_locked(reply, deadline)) {
        // An error answer (a relay that could not be set up) decodes to nothing; the
        // connection stays in step either way, since the reply was read whole.
        answer = decode_register_answer(reply, id);
        if (answer) {
          answer->service_instance = channel_.service_instance();
          last_service_.store(answer->service_instance);
        }
        break;
      }
      disconnect_locked();
      if (!reused || Clock::now() >= deadline) break;
    }
  } catch (...) {
    // Out of memory in a program we live in: behave as if the service were silent.
    answer.reset();
  }
  return answer;
}

void ServiceClient::release(std::uint64_t flow_id) {
  const PreservedError preserved(errors_);
  try {
    std::lock_guard lock(mutex_);
    const ClientCall call;
    const auto deadline = Clock::now() + kReleaseTimeout;
    const std::string frame = protocol::encode_frame(encode_release(flow_id));
    for (int attempt = 0; attempt < 2; ++attempt) {
      const bool reused = channel_.is_open();
      if (!connect_locked(deadline)) break;
      if (channel_.send(frame, deadline)) break;
      disconnect_locked();
      if (!reused) break;
    }
  } catch (...) {
  }
}

std::int64_t ServiceClient::current_service() {
  const auto now = Clock::now();
  if (now.time_since_epoch().count() < next_service_check_.load(std::memory_order_relaxed)) return last_service_.load();
  std::unique_lock lock(mutex_, std::try_to_lock);
  if (!lock.owns_lock()) return last_service_.load();  // a registration is talking to it right now
  const ClientCall call;
  const PreservedError preserved(errors_);
  next_service_check_.store((now + check_interval_).time_since_epoch().count(), std::memory_order_relaxed);
  // The service never speaks unasked: a hang-up is all there is to see.
  if (channel_.is_open() && channel_.hung_up()) disconnect_locked();
  if (channel_.is_open()) {
    last_service_.store(channel_.service_instance());
  } else {
    // Dropped by the service (idle) or by its end: a new connection tells which.
    bool absent = false;
    if (connect_locked(now + kServiceCheckTimeout, &absent)) {
      last_service_.store(channel_.service_instance());
    } else if (absent) {
      last_service_.store(0);
    }
  }
  return last_service_.load();
}

}  // namespace sluice::provider
