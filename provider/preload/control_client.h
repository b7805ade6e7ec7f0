#pragma once

// The provider's connection to sluiced: one per process, kept open, opened again
// after fork (the service knows a caller by the pid that connected) and closed on
// exec. Every wait is bounded by the caller's timeout; a late, garbled or missing
// answer is the same to the caller as no answer, and the connection is dropped so
// a late answer can never be taken for the next one. It also tells which service
// process is there (the listener's pid, from SO_PEERCRED): a UDP association dies
// with the process that opened it, and a restarted service knows nothing of it.

#include <atomic>
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

  // The service process listening now (its pid), 0 when none does. Looked at no more
  // than every kServiceCheckInterval (in between, the last look's answer), and never
  // waited on: while a registration holds the connection, or the service is too busy
  // to accept one, the last answer stands. Safe to call from any thread.
  std::int64_t current_service();
  static constexpr std::chrono::milliseconds kServiceCheckInterval{100};

  // pthread_atfork: the child starts without a connection (it would speak with the
  // parent's identity) and with the lock free.
  void before_fork() { mutex_.lock(); }
  void after_fork_in_parent() { mutex_.unlock(); }
  void after_fork_in_child();

 private:
  using Clock = std::chrono::steady_clock;
  // `absent`, if given, is set when nothing listens at the path (rather than a
  // listener too busy to accept by the deadline, or no descriptor to be had).
  bool connect_locked(Clock::time_point deadline, bool* absent = nullptr);
  bool send_locked(const std::string& payload, Clock::time_point deadline);
  bool receive_locked(std::string& payload, Clock::time_point deadline);
  void disconnect_locked();

  const std::string path_;
  std::mutex mutex_;
  int fd_ = -1;
  std::int64_t service_pid_ = 0;  // of fd_'s listener
  std::int64_t next_id_ = 1;
  protocol::FrameDecoder decoder_;
  std::atomic<std::int64_t> last_service_{0};
  std::atomic<Clock::rep> next_service_check_{0};
};

}  // namespace sluice::preload
