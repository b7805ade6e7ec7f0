#pragma once

// Bandwidth quotas: per-application (or global) rates with bursts, and volume caps
// per day, week or month with what happens when a cap is reached; and their
// arithmetic, in this one place: the period a cap counts over, what a cap leaves and
// when it is reached, what reaching it does, and the rates a quota gives its token
// buckets. Everything that enforces or reports a quota calls these: the relay's
// per-read check (relay/volume_allowance.h), the caps and their state
// (flows/flow_manager.cpp), the buckets (flows/quota_buckets.cpp) and the RPC's date
// check. No state and no I/O; the inline ones are on the relay's hot path.

#include <cstdint>
#include <map>
#include <optional>
#include <string>

#include "service/policy/rule.h"

namespace sluice::policy {

enum class VolumePeriod { day, week, month };
enum class OnExceed { block, throttle };

struct Quota {
  bool global = false;          // the machine-wide cap; `app` is empty then
  std::string app;              // full executable path
  Rates rate;                   // sustained bytes/s per direction
  Rates burst;                  // bucket depth in bytes; default relay::default_burst(rate)
  std::optional<std::uint64_t> volume_bytes;  // up + down per period
  std::optional<VolumePeriod> volume_period;
  std::optional<OnExceed> on_exceed;          // with a volume cap; default block
  std::optional<std::uint64_t> throttle_rate; // bytes/s once the cap is reached, for throttle
  // The unit each amount was written in ("rate.up", "burst.down", "volume.bytes",
  // "volume.throttle_rate" -> "GB", "MiB", ...), to show it back so. Display only.
  std::map<std::string, std::string> units;
  std::string updated_at;
  bool operator==(const Quota&) const = default;
};

const char* to_string(VolumePeriod period);
const char* to_string(OnExceed on_exceed);
std::optional<VolumePeriod> parse_volume_period(const std::string& text);
std::optional<OnExceed> parse_on_exceed(const std::string& text);

// Bytes a program may still move this period under a cap of `cap` bytes.
constexpr std::uint64_t volume_left(std::uint64_t used, std::uint64_t cap) { return used >= cap ? 0 : cap - used; }

// A cap is reached once the period's usage is at it: from then on new flows are
// refused (block) or throttled.
constexpr bool volume_cap_reached(std::uint64_t used, std::uint64_t cap) { return used >= cap; }

// Whether `quota` has a volume cap (an amount and a period).
bool has_volume_cap(const Quota& quota);

// What reaching the cap does: block unless the quota says throttle.
OnExceed on_exceed_of(const Quota& quota);

// What a reached volume cap does, decided here once. block (also when on_exceed is
// unset): the program's new flows are refused and the relay ends its relayed ones at
// the cap. throttle: nothing is refused; its flows go on, slowed by metered_quota().
bool cap_refuses_flows(std::optional<OnExceed> on_exceed);

// The rates and bursts the token buckets of `quota`'s program apply: the quota's own,
// unless `over_volume` and the cap throttles; then each direction runs at the throttle
// rate (or at its own rate, when that is lower) with no saved-up burst.
Quota metered_quota(Quota quota, bool over_volume);

// The first day (YYYY-MM-DD, UTC) of the period containing `day`: the day itself,
// the Monday of its ISO week, or the first of its month. Throws std::invalid_argument
// for a text that is not a date.
std::string period_start(VolumePeriod period, const std::string& day);

// The rate a live bucket keeps when its limit is removed: its flows go unmetered
// from then on (a bucket is only dropped when its last flow ends).
inline constexpr std::uint64_t kUnlimitedRate = UINT64_MAX / 4;

}  // namespace sluice::policy
