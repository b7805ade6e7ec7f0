#pragma once

// When a relayed flow that moves nothing is closed. The relay stamps the last moment
// something moved with the clock reading it already took for that round of work (no
// clock call per byte), and keeps one check armed at a time on its existing timer: at
// the check it is idle if the stamp is a whole timeout old, else the check moves to
// stamp + timeout. So a busy flow costs one timer per timeout, not one per read.
// Platform-neutral: both backends' TCP relays use it.

#include <chrono>
#include <optional>
#include <string>

namespace sluice::relay {

class IdleDeadline {
 public:
  using Clock = std::chrono::steady_clock;

  // A timeout of zero (or less) never idles out.
  explicit IdleDeadline(std::chrono::milliseconds timeout = std::chrono::milliseconds::zero()) : timeout_(timeout) {}

  bool enabled() const { return timeout_ > std::chrono::milliseconds::zero(); }
  std::chrono::milliseconds timeout() const { return timeout_; }

  // The flow starts relaying at `now`: the time of the first check, which the caller
  // arms; none when idle timeouts are off.
  std::optional<Clock::time_point> arm(Clock::time_point now);

  // Something moved at `now`.
  void touch(Clock::time_point now) { last_activity_ = now; }

  struct Verdict {
    bool idle = false;                        // nothing moved for the whole timeout: close the flow
    std::optional<Clock::time_point> recheck;  // not idle, and the check was due: arm this one instead
  };
  // At any timer of the relay (it may have several armed for other reasons).
  Verdict check(Clock::time_point now);

 private:
  std::chrono::milliseconds timeout_;
  bool armed_ = false;
  Clock::time_point last_activity_{};
  Clock::time_point check_at_{};
};

// Why an idle flow was closed, as its error records it.
std::string idle_reason(const IdleDeadline& idle);

}  // namespace sluice::relay
