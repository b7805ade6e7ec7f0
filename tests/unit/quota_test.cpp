#include "service/policy/quota.h"

#include <gtest/gtest.h>

#include <stdexcept>

namespace sluice::policy {
namespace {

TEST(QuotaNamesTest, RoundTrip) {
  for (auto p : {VolumePeriod::day, VolumePeriod::week, VolumePeriod::month}) EXPECT_EQ(parse_volume_period(to_string(p)), p);
  for (auto o : {OnExceed::block, OnExceed::throttle}) EXPECT_EQ(parse_on_exceed(to_string(o)), o);
  EXPECT_FALSE(parse_volume_period("year"));
  EXPECT_FALSE(parse_on_exceed("panic"));
}

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

// The throttle switch: what a volume cap does once the program has used it up.
Quota capped(std::optional<OnExceed> on_exceed, std::optional<std::uint64_t> throttle_rate) {
  Quota quota;
  quota.app = "/usr/bin/app";
  quota.rate = Rates{4'000'000, 2'000'000};
  quota.burst = Rates{8'000'000, 8'000'000};
  quota.volume_bytes = 1'000'000;
  quota.volume_period = VolumePeriod::day;
  quota.on_exceed = on_exceed;
  quota.throttle_rate = throttle_rate;
  return quota;
}

TEST(VolumeCapSwitchTest, BlockRefusesFlowsAndThrottleDoesNot) {
  EXPECT_TRUE(cap_refuses_flows(OnExceed::block));
  EXPECT_TRUE(cap_refuses_flows(std::nullopt)) << "a cap that says nothing blocks";
  EXPECT_FALSE(cap_refuses_flows(OnExceed::throttle));
}

TEST(VolumeCapSwitchTest, OverAThrottlingCapEachDirectionRunsAtTheThrottleRateWithoutBurst) {
  const Quota metered = metered_quota(capped(OnExceed::throttle, 3'000'000), /*over_volume=*/true);
  EXPECT_EQ(metered.rate.up, 3'000'000u) << "turned down to the throttle rate";
  EXPECT_EQ(metered.rate.down, 2'000'000u) << "its own rate is lower than the throttle rate, so it stays";
  EXPECT_EQ(metered.burst, Rates{}) << "a throttled program gets no saved-up burst";
  EXPECT_EQ(metered.volume_bytes, 1'000'000u) << "the cap itself is unchanged";
}

TEST(VolumeCapSwitchTest, ADirectionWithoutARateGetsTheThrottleRate) {
  Quota quota = capped(OnExceed::throttle, 65'536);
  quota.rate = {};
  quota.burst = {};
  EXPECT_EQ(metered_quota(quota, true).rate, (Rates{65'536, 65'536}));
}

TEST(VolumeCapSwitchTest, UnderTheCapOrWhenItBlocksTheRatesAreTheQuotasOwn) {
  const Quota throttling = capped(OnExceed::throttle, 65'536);
  EXPECT_EQ(metered_quota(throttling, /*over_volume=*/false), throttling);
  // A blocking cap slows nothing: the program's flows are refused and ended instead.
  for (auto on_exceed : {std::optional(OnExceed::block), std::optional<OnExceed>()}) {
    const Quota blocking = capped(on_exceed, std::nullopt);
    EXPECT_EQ(metered_quota(blocking, true), blocking);
  }
}

}  // namespace
}  // namespace sluice::policy
