#pragma once

// What a program may still move under its volume cap, shared by all of its relayed
// flows (both directions, every worker). The relay asks before it reads and counts
// what it read, so a flow that crosses the cap is ended by the relay at the cap, not
// at the next flow's registration. The service sets the limit from the policy (at
// once when the policy changes) and raises `used` to what the store has counted.
// Lock-free: the hot path is two atomic loads and one add. Platform-neutral.

#include <algorithm>
#include <atomic>
#include <cstdint>

#include "service/policy/quota.h"

namespace sluice::relay {

class VolumeAllowance {
 public:
  static constexpr std::uint64_t kNoCap = UINT64_MAX;

  // How much of `want` may be read now: all of it unless a cap that stops flows
  // holds; 0 once it is reached (the flow must end). Flows on other workers may read
  // the same remainder at once, so the cap can be passed by one read per flow.
  std::uint64_t room(std::uint64_t want) const {
    if (!stops_.load(std::memory_order_relaxed)) return want;
    const std::uint64_t limit = limit_.load(std::memory_order_relaxed), used = used_.load(std::memory_order_relaxed);
    return std::min(want, policy::volume_left(used, limit));
  }
  // True when a cap that stops flows is reached (a datagram passes while it is not).
  bool stops_now() const { return room(1) == 0; }
  void consume(std::uint64_t bytes) { used_.fetch_add(bytes, std::memory_order_relaxed); }

  // The service's side. kNoCap: no cap; `stops`: block (else throttle, which the
  // token buckets apply and the relay ignores).
  void set_cap(std::uint64_t limit, bool stops) {
    limit_.store(limit, std::memory_order_relaxed);
    stops_.store(stops && limit != kNoCap, std::memory_order_relaxed);
  }
  // Never lowers what the relay counted: the store lags the relay by a flush.
  void raise_used_to(std::uint64_t counted) {
    std::uint64_t seen = used_.load(std::memory_order_relaxed);
    while (seen < counted && !used_.compare_exchange_weak(seen, counted, std::memory_order_relaxed)) {
    }
  }
  // A new period starts from what the store holds for it.
  void reset_used(std::uint64_t counted) { used_.store(counted, std::memory_order_relaxed); }

  std::uint64_t used() const { return used_.load(std::memory_order_relaxed); }
  std::uint64_t limit() const { return limit_.load(std::memory_order_relaxed); }
  bool over() const { return policy::volume_cap_reached(used(), limit()); }

 private:
  std::atomic<std::uint64_t> limit_{kNoCap};
  std::atomic<bool> stops_{false};
  std::atomic<std::uint64_t> used_{0};
};

// Why a relay ended a flow at its program's volume cap (the flow's error).
inline constexpr const char* kVolumeCapReached = "volume cap reached";

}  // namespace sluice::relay
