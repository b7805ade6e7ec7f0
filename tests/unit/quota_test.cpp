#include "service/policy/quota.h"

#include <gtest/gtest.h>

namespace sluice::policy {
namespace {

TEST(QuotaNamesTest, RoundTrip) {
  for (auto p : {VolumePeriod::day, VolumePeriod::week, VolumePeriod::month}) EXPECT_EQ(parse_volume_period(to_string(p)), p);
  for (auto o : {OnExceed::block, OnExceed::throttle}) EXPECT_EQ(parse_on_exceed(to_string(o)), o);
  EXPECT_FALSE(parse_volume_period("year"));
  EXPECT_FALSE(parse_on_exceed("panic"));
}

}  // namespace
}  // namespace sluice::policy
