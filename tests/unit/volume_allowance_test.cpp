// The allowance a program's relayed flows draw on under its volume cap: what a
// read may take, when flows must stop, and that the service's view of usage
// never undoes what the relay counted.

#include <gtest/gtest.h>

#include "service/relay/volume_allowance.h"

namespace sluice::relay {
namespace {

TEST(VolumeAllowanceTest, WithoutACapEveryReadMayTakeAll) {
  VolumeAllowance allowance;
  allowance.consume(1'000'000);
  EXPECT_EQ(allowance.room(65536), 65536u);
  EXPECT_FALSE(allowance.stops_now());
}

TEST(VolumeAllowanceTest, ABlockingCapClipsTheReadThatReachesItThenStops) {
  VolumeAllowance allowance;
  allowance.set_cap(1000, /*stops=*/true);
  EXPECT_EQ(allowance.room(600), 600u);
  allowance.consume(600);
  EXPECT_EQ(allowance.room(600), 400u) << "the read that reaches the cap takes only what is left";
  allowance.consume(400);
  EXPECT_EQ(allowance.room(1), 0u);
  EXPECT_TRUE(allowance.stops_now());
  EXPECT_TRUE(allowance.over());
}

TEST(VolumeAllowanceTest, AThrottlingCapNeverStopsAFlow) {
  // Past a throttle cap the token buckets slow the program; the relay reads on.
  VolumeAllowance allowance;
  allowance.set_cap(1000, /*stops=*/false);
  allowance.consume(5000);
  EXPECT_EQ(allowance.room(4096), 4096u);
  EXPECT_FALSE(allowance.stops_now());
  EXPECT_TRUE(allowance.over()) << "but it is over its cap, for the buckets and the status";
}

TEST(VolumeAllowanceTest, LiftingOrRaisingTheCapLetsFlowsGoOnAtOnce) {
  VolumeAllowance allowance;
  allowance.set_cap(1000, true);
  allowance.consume(1000);
  ASSERT_TRUE(allowance.stops_now());
  allowance.set_cap(5000, true);
  EXPECT_EQ(allowance.room(10'000), 4000u);
  allowance.set_cap(VolumeAllowance::kNoCap, true);
  EXPECT_FALSE(allowance.stops_now()) << "no cap never stops, whatever `stops` says";
  EXPECT_EQ(allowance.room(10'000), 10'000u);
}

TEST(VolumeAllowanceTest, TheStoresCountNeverLowersWhatTheRelayCounted) {
  // The store lags the relay by a flush: taking its smaller figure would hand the
  // program its last few seconds of traffic again.
  VolumeAllowance allowance;
  allowance.consume(700);
  allowance.raise_used_to(500);
  EXPECT_EQ(allowance.used(), 700u);
  allowance.raise_used_to(900);
  EXPECT_EQ(allowance.used(), 900u);
}

TEST(VolumeAllowanceTest, ANewPeriodStartsFromWhatTheStoreHolds) {
  VolumeAllowance allowance;
  allowance.set_cap(1000, true);
  allowance.consume(1000);
  allowance.reset_used(0);
  EXPECT_EQ(allowance.used(), 0u);
  EXPECT_FALSE(allowance.stops_now());
}

}  // namespace
}  // namespace sluice::relay
