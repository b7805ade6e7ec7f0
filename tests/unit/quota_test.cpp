#include "service/policy/quota.h"

#include <gtest/gtest.h>

namespace sluice::policy {
namespace {

TEST(PeriodStartTest, DayWeekAndMonthInUtcDays) {
  EXPECT_EQ(period_start(VolumePeriod::day, "2026-11-22"), "2026-11-22");
  EXPECT_EQ(period_start(VolumePeriod::month, "2026-11-22"), "2026-11-01");
  EXPECT_EQ(period_start(VolumePeriod::week, "2026-11-22"), "2026-11-16") << "ISO weeks start on Monday; 22 Nov 2026 is a Sunday";
  EXPECT_EQ(period_start(VolumePeriod::week, "2026-11-16"), "2026-11-16");
  EXPECT_EQ(period_start(VolumePeriod::week, "2027-01-01"), "2026-12-28") << "a week can start in the previous year";
  EXPECT_THROW(period_start(VolumePeriod::day, "2026-02-30"), std::invalid_argument);
  EXPECT_THROW(period_start(VolumePeriod::day, "yesterday"), std::invalid_argument);
}

TEST(QuotaNamesTest, RoundTrip) {
  for (auto p : {VolumePeriod::day, VolumePeriod::week, VolumePeriod::month}) EXPECT_EQ(parse_volume_period(to_string(p)), p);
  for (auto o : {OnExceed::block, OnExceed::throttle}) EXPECT_EQ(parse_on_exceed(to_string(o)), o);
  EXPECT_FALSE(parse_volume_period("year"));
  EXPECT_FALSE(parse_on_exceed("panic"));
}

}  // namespace
}  // namespace sluice::policy
