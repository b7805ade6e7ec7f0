#pragma once

// A provider's registration client: one per process, over the channel the provider
// supplies, kept open between calls. Every wait is bounded by the caller's timeout;
// a late, garbled or missing answer is the same to the caller as no answer, and the
// connection is dropped so that a late answer can never be taken for the next one.
// The service identifies the caller itself (SO_PEERCRED, the pipe client's process);
// the client, in turn, tells which service process is there: a UDP association dies
// with the process that opened it, and a restarted service knows nothing of it.
// The program's error code is the program's: every call leaves it as it was.

#include <atomic>
#include <chrono>
#include <cstdint>
#include <mutex>
#include <optional>
#include <string>

#include "control/protocol/frame.h"
#include "provider/core/flow_router.h"
#include "provider/core/registration.h"
#include "provider/core/service_channel.h"
#include "provider/core/system_calls.h"

namespace sluice::provider {

class ServiceClient final : public RegistrationClient {
 public:
  // `check_interval`: how long current_service's answer stands (the contract test's
  // fake service restarts without waiting for it).
  ServiceClient(ServiceChannel& channel, ErrorCode& errors,
                std::chrono::milliseconds check_interval = kServiceCheckInterval)
      : channel_(channel), errors_(errors), check_interval_(check_interval) {}
  ServiceClient(const ServiceClient&) = delete;
  ServiceClient& operator=(const ServiceClient&) = delete;

  // nullopt when the service is not there, does not answer in time, or refuses. A
  // kept connection the service has since dropped fails on first use: then once
  // more, on a fresh one, within the same timeout.
  std::optional<RegisterAnswer> register_flow(const RegisterRequest& request, std::chrono::milliseconds timeout) override;
  // A notification, nothing awaited, within kReleaseTimeout; as register_flow, once
  // more on a fresh connection: a lost release would leave the flow open in the service.
  void release(std::uint64_t flow_id) override;
  static constexpr std::chrono::milliseconds kReleaseTimeout{100};

  static constexpr std::chrono::milliseconds kServiceCheckInterval{100};
  // The service process there now (its pid), 0 when none listens. Looked at no more
  // than every check interval (in between, the last look's answer), and never
  // waited on: while a registration holds the connection, or the service is too busy
  // to accept one, the last answer stands. Safe to call from any thread.
  std::int64_t current_service() override;
  static constexpr std::chrono::milliseconds kServiceCheckTimeout{50};

  // The client's lock, for a provider that must touch the channel from outside a
  // call (a program closing the descriptor under it). Not taken when this thread
  // already holds it: a signal handler in the middle of our own call must not wait
  // for the lock it interrupted.
  std::unique_lock<std::mutex> lock_unless_held();

  // fork: the child starts without a connection (it would speak with the parent's
  // identity) and with the lock free.
  void before_fork() { mutex_.lock(); }
  void after_fork_in_parent() { mutex_.unlock(); }
  void after_fork_in_child();

 private:
  using Clock = std::chrono::steady_clock;
  bool connect_locked(Clock::time_point deadline, bool* absent = nullptr);
  bool receive_locked(std::string& payload, Clock::time_point deadline);
  void disconnect_locked();

  ServiceChannel& channel_;
  ErrorCode& errors_;
  const std::chrono::milliseconds check_interval_;
  std::mutex mutex_;
  protocol::FrameDecoder decoder_;
  std::int64_t next_id_ = 1;
  std::atomic<std::int64_t> last_service_{0};
  std::atomic<Clock::rep> next_service_check_{0};
};

}  // namespace sluice::provider
