#include "service/policy/quota.h"

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <stdexcept>

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

bool has_volume_cap(const Quota& quota) { return quota.volume_bytes && quota.volume_period; }

namespace {

// What a cap that names no on_exceed does.
OnExceed or_default(std::optional<OnExceed> on_exceed) { return on_exceed.value_or(OnExceed::block); }

}  // namespace

OnExceed on_exceed_of(const Quota& quota) { return or_default(quota.on_exceed); }

bool cap_refuses_flows(std::optional<OnExceed> on_exceed) { return or_default(on_exceed) == OnExceed::block; }

Quota metered_quota(Quota quota, bool over_volume) {
  if (!over_volume || cap_refuses_flows(quota.on_exceed) || !quota.throttle_rate) return quota;
  for (auto* rate : {&quota.rate.up, &quota.rate.down}) *rate = std::min(rate->value_or(UINT64_MAX), *quota.throttle_rate);
  quota.burst = {};  // a throttled program gets no saved-up burst
  return quota;
}

std::string period_start(VolumePeriod period, const std::string& day) {
  using namespace std::chrono;
  int y = 0;
  unsigned m = 0, d = 0;
  if (std::sscanf(day.c_str(), "%d-%u-%u", &y, &m, &d) != 3) throw std::invalid_argument("not a date: " + day);
  year_month_day ymd{year{y}, month{m}, std::chrono::day{d}};
  if (!ymd.ok()) throw std::invalid_argument("not a date: " + day);
  if (period == VolumePeriod::month) ymd = year_month_day{ymd.year(), ymd.month(), std::chrono::day{1}};
  if (period == VolumePeriod::week) {
    sys_days days{ymd};
    const weekday wd{days};
    ymd = year_month_day{days - std::chrono::days{(wd.c_encoding() + 6) % 7}};  // ISO weeks start on Monday
  }
  char buf[16];
  std::snprintf(buf, sizeof buf, "%04d-%02u-%02u", static_cast<int>(ymd.year()), static_cast<unsigned>(ymd.month()),
                static_cast<unsigned>(ymd.day()));
  return buf;
}

}  // namespace sluice::policy
