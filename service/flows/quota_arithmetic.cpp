#include "service/flows/quota_arithmetic.h"

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <stdexcept>

namespace sluice::service {

std::string period_start(policy::VolumePeriod period, const std::string& day) {
  using namespace std::chrono;
  int y = 0;
  unsigned m = 0, d = 0;
  if (std::sscanf(day.c_str(), "%d-%u-%u", &y, &m, &d) != 3) throw std::invalid_argument("not a date: " + day);
  year_month_day ymd{year{y}, month{m}, std::chrono::day{d}};
  if (!ymd.ok()) throw std::invalid_argument("not a date: " + day);
  if (period == policy::VolumePeriod::month) ymd = year_month_day{ymd.year(), ymd.month(), std::chrono::day{1}};
  if (period == policy::VolumePeriod::week) {
    sys_days days{ymd};
    const weekday wd{days};
    ymd = year_month_day{days - std::chrono::days{(wd.c_encoding() + 6) % 7}};  // ISO weeks start on Monday
  }
  char buf[16];
  std::snprintf(buf, sizeof buf, "%04d-%02u-%02u", static_cast<int>(ymd.year()), static_cast<unsigned>(ymd.month()),
                static_cast<unsigned>(ymd.day()));
  return buf;
}

bool has_volume_cap(const policy::Quota& quota) { return quota.volume_bytes && quota.volume_period; }

policy::OnExceed on_exceed_of(const policy::Quota& quota) { return quota.on_exceed.value_or(policy::OnExceed::block); }

policy::Quota metered_quota(policy::Quota quota, bool cap_reached) {
  if (cap_reached && quota.on_exceed == policy::OnExceed::throttle && quota.throttle_rate) {
    for (auto* rate : {&quota.rate.up, &quota.rate.down}) *rate = std::min(rate->value_or(UINT64_MAX), *quota.throttle_rate);
    quota.burst = {};  // a throttled application gets no saved-up burst
  }
  return quota;
}

}  // namespace sluice::service
