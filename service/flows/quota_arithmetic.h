#pragma once

// Quota arithmetic, in one place: what a volume cap leaves and when it is reached,
// the period a cap counts over, and the rates a quota gives its token buckets
// (turned down to the throttle rate once its cap is reached). Everything that
// enforces or reports a quota calls these: the relay's per-read check
// (relay/volume_allowance.h), the caps and their state (flow_manager.cpp), the buckets
// (quota_buckets.cpp) and the RPC's date check. No state and no I/O; the inline ones
// are on the relay's hot path. The token bucket's own accrual is the relay's
// (relay/token_bucket.h), as is the depth it takes when a quota names none.

#include <cstdint>
#include <string>

#include "service/policy/quota.h"

namespace sluice::service {

// Bytes a program may still move this period under a cap of `cap` bytes.
constexpr std::uint64_t volume_left(std::uint64_t used, std::uint64_t cap) { return used >= cap ? 0 : cap - used; }

// A cap is reached once the period's usage is at it: from then on new flows are
// refused (block) or throttled.
constexpr bool volume_cap_reached(std::uint64_t used, std::uint64_t cap) { return used >= cap; }

// The first day (YYYY-MM-DD, UTC) of the period containing `day`: the day itself,
// the Monday of its ISO week, or the first of its month. Throws std::invalid_argument
// for a text that is not a date.
std::string period_start(policy::VolumePeriod period, const std::string& day);

// Whether `quota` has a volume cap (an amount and a period).
bool has_volume_cap(const policy::Quota& quota);

// What reaching the cap does: block unless the quota says throttle.
policy::OnExceed on_exceed_of(const policy::Quota& quota);

// The rates and depths a bucket of `quota` meters at: the quota's own, or, with
// `cap_reached` and on_exceed throttle, the throttle rate (or the quota's own rate
// where that is lower) and no saved-up burst.
policy::Quota metered_quota(policy::Quota quota, bool cap_reached);

// The rate a live bucket keeps when its limit is removed: its flows go unmetered
// from then on (a bucket is only dropped when its last flow ends).
inline constexpr std::uint64_t kUnlimitedRate = UINT64_MAX / 4;

}  // namespace sluice::service
