#pragma once

// The provider's connection to sluiced: one per process, kept open, opened again
// after fork (the service knows a caller by the pid that connected) and closed on
// exec. Every wait is bounded by the caller's timeout; a late, garbled or missing
// answer is the same to the caller as no answer, and the connection is dropped so
// a late answer can never be taken for the next one.

#include <chrono>
#include <cstdint>
#include <mutex>
#include <optional>
#include <string>

#include "control/protocol/frame.h"
#include "provider/client/flow_router.h"
#include "provider/client/registration.h"

namespace sluice::preload {

class ControlClient final : public provider::RegistrationClient {
 public:
  explicit ControlClient(std::string socket_path) : path_(std::move(socket_path)) {}
  ~ControlClient() override;
  ControlClient(const ControlClient&) = delete;
  ControlClient& operator=(const ControlClient&) = delete;

  // nullopt when the service is not there, does not answer in time, or refuses.
  std::optional<provider::RegisterAnswer> register_flow(const provider::RegisterRequest& request,
                                                       std::chrono::milliseconds timeout) override;
  // Best effort: a notification, nothing is awaited.
  void release(std::uint64_t flow_id) override;

  // pthread_atfork: the child starts without a connection (it would speak with the
  // parent's identity) and with the lock free.
  void before_fork() { mutex_.lock(); }
  void after_fork_in_parent() { mutex_.unlock(); }
  void after_fork_in_child();

 private:
  using Clock = std::chrono::steady_clock;
  bool connect_locked(Clock::time_point deadline);
  bool send_locked(const std::string& payload, Clock::time_point deadline);
  bool receive_locked(std::string& payload, Clock::time_point deadline);
  void disconnect_locked();

  const std::string path_;
  std::mutex mutex_;
  int fd_ = -1;
  std::int64_t next_id_ = 1;
  protocol::FrameDecoder decoder_;
};

}  // namespace sluice::preload
