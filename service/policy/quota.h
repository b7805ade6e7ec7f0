#pragma once

// Bandwidth quotas: per-application (or global) rates with bursts, and volume caps
// per day, week or month with what happens when a cap is reached. What they
// compute to (periods, what a cap leaves, throttled rates) is
// service/flows/quota_arithmetic.h.

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

}  // namespace sluice::policy
