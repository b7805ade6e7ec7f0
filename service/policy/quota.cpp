#include "service/policy/quota.h"


namespace sluice::policy {

const char* to_string(VolumePeriod period) {
  switch (period) {
    case VolumePeriod::day: return "day";
    case VolumePeriod::week: return "week";
    case VolumePeriod::month: return "month";
  }
  return "day";
}

const char* to_string(OnExceed on_exceed) { return on_exceed == OnExceed::block ? "block" : "throttle"; }

std::optional<VolumePeriod> parse_volume_period(const std::string& text) {
  if (text == "day") return VolumePeriod::day;
  if (text == "week") return VolumePeriod::week;
  if (text == "month") return VolumePeriod::month;
  return std::nullopt;
}

std::optional<OnExceed> parse_on_exceed(const std::string& text) {
  if (text == "block") return OnExceed::block;
  if (text == "throttle") return OnExceed::throttle;
  return std::nullopt;
}

}  // namespace sluice::policy
