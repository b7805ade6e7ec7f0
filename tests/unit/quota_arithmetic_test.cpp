// The quota arithmetic every enforcer and report calls (service/flows/quota_arithmetic.h):
// periods, what a cap leaves, and the rates a bucket meters at once a cap is reached.

#include "service/flows/quota_arithmetic.h"

#include <gtest/gtest.h>

#include <stdexcept>

namespace sluice::service {
namespace {

using policy::OnExceed;
using policy::Quota;
using policy::VolumePeriod;

TEST(PeriodStartTest, DayWeekAndMonthInUtcDays) {
  EXPECT_EQ(period_start(VolumePeriod::day, "2026-11-22"), "2026-11-22");
  EXPECT_EQ(period_start(VolumePeriod::month, "2026-11-22"), "2026-11-01");
  EXPECT_EQ(period_start(VolumePeriod::week, "2026-11-22"), "2026-11-16") << "ISO weeks start on Monday; 22 Nov 2026 is a Sunday";
  EXPECT_EQ(period_start(VolumePeriod::week, "2026-11-16"), "2026-11-16");
  EXPECT_EQ(period_start(VolumePeriod::week, "2027-01-01"), "2026-12-28") << "a week can start in the previous year";
  EXPECT_THROW(period_start(VolumePeriod::day, "2026-02-30"), std::invalid_argument);
  EXPECT_THROW(period_start(VolumePeriod::day, "yesterday"), std::invalid_argument);
}

TEST(VolumeCapTest, WhatACapLeavesAndWhenItIsReached) {
  EXPECT_EQ(volume_left(0, 1000), 1000u);
  EXPECT_EQ(volume_left(600, 1000), 400u);
  EXPECT_EQ(volume_left(1000, 1000), 0u);
  EXPECT_EQ(volume_left(5000, 1000), 0u) << "usage past the cap (one read per flow may pass it) leaves nothing, not a wrapped amount";
  EXPECT_FALSE(volume_cap_reached(999, 1000));
  EXPECT_TRUE(volume_cap_reached(1000, 1000));
  EXPECT_TRUE(volume_cap_reached(1001, 1000));
}

TEST(VolumeCapTest, ACapNeedsAnAmountAndAPeriodAndBlocksUnlessItSaysThrottle) {
  Quota quota;
  EXPECT_FALSE(has_volume_cap(quota));
  quota.volume_bytes = 1000;
  EXPECT_FALSE(has_volume_cap(quota)) << "an amount without a period counts over nothing";
  quota.volume_period = VolumePeriod::week;
  EXPECT_TRUE(has_volume_cap(quota));
  EXPECT_EQ(on_exceed_of(quota), OnExceed::block);
  quota.on_exceed = OnExceed::throttle;
  EXPECT_EQ(on_exceed_of(quota), OnExceed::throttle);
}

TEST(MeteredQuotaTest, AReachedThrottleCapTurnsBothDirectionsDownAndDropsTheBurst) {
  Quota quota;
  quota.rate.up = 1'000'000;  // down unlimited
  quota.burst.up = 500'000;
  quota.volume_bytes = 1000;
  quota.volume_period = VolumePeriod::day;
  quota.on_exceed = OnExceed::throttle;
  quota.throttle_rate = 65536;

  EXPECT_EQ(metered_quota(quota, false), quota) << "under the cap the quota's own rates hold";
  const Quota throttled = metered_quota(quota, true);
  EXPECT_EQ(throttled.rate.up, 65536u);
  EXPECT_EQ(throttled.rate.down, 65536u) << "an unlimited direction is throttled too";
  EXPECT_FALSE(throttled.burst.up) << "a throttled program gets no saved-up burst";

  quota.rate.up = 1000;
  EXPECT_EQ(metered_quota(quota, true).rate.up, 1000u) << "a quota rate lower than the throttle rate stays";
}

TEST(MeteredQuotaTest, AReachedBlockingCapLeavesTheRatesAlone) {
  Quota quota;
  quota.rate.down = 2000;
  quota.volume_bytes = 1000;
  quota.volume_period = VolumePeriod::day;
  quota.on_exceed = OnExceed::block;  // the relay stops its flows; the buckets do not change
  EXPECT_EQ(metered_quota(quota, true), quota);
}

}  // namespace
}  // namespace sluice::service
