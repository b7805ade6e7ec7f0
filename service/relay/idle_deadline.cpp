#include "service/relay/idle_deadline.h"

namespace sluice::relay {

std::optional<IdleDeadline::Clock::time_point> IdleDeadline::arm(Clock::time_point now) {
  if (!enabled()) return std::nullopt;
  armed_ = true;
  last_activity_ = now;
  check_at_ = now + timeout_;
  return check_at_;
}

IdleDeadline::Verdict IdleDeadline::check(Clock::time_point now) {
  // A timer armed for something else (a throttle, the connect deadline) says nothing
  // about idleness until the armed check is due.
  if (!armed_ || now < check_at_) return {};
  const auto idle_until = last_activity_ + timeout_;
  if (now >= idle_until) {
    armed_ = false;
    return {.idle = true};
  }
  check_at_ = idle_until;
  return {.recheck = check_at_};
}

std::string idle_reason(const IdleDeadline& idle) {
  return "no traffic either way for " + std::to_string(idle.timeout().count()) + " ms (relay-tcp-idle-timeout)";
}

}  // namespace sluice::relay
