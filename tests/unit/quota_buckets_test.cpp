// QuotaBuckets (service/flows/quota_buckets.h) follows the throttle switch: once a program
// is over a volume cap that throttles, its token buckets run at the throttle rate,
// for new flows and for the flows already running, until the cap is lifted; a cap
// that blocks slows nothing (its flows are refused and ended instead).
#include "service/flows/quota_buckets.h"

#include <gtest/gtest.h>

#include "schema/embedded_migrations.h"
#include "service/store/migrations.h"

namespace sluice::service {
namespace {

constexpr std::uint64_t kRateUp = 4'000'000, kRateDown = 2'000'000, kThrottle = 65'536;
const std::string kApp = "/usr/bin/downloader";

class QuotaBucketsTest : public ::testing::Test {
 protected:
  QuotaBucketsTest() : db(":memory:"), store((store::migrate(db, schema::embedded_migrations()), db)), policy(store, {}) {}

  // A quota with rates both ways and a volume cap doing `on_exceed`.
  void set_quota(policy::OnExceed on_exceed, bool global = false) {
    policy::Quota quota;
    quota.global = global;
    if (!global) quota.app = kApp;
    quota.rate = policy::Rates{kRateUp, kRateDown};
    quota.volume_bytes = 1000;
    quota.volume_period = policy::VolumePeriod::day;
    quota.on_exceed = on_exceed;
    if (on_exceed == policy::OnExceed::throttle) quota.throttle_rate = kThrottle;
    store.set_quota(quota, store::Actor{});
    policy.reload();
  }

  relay::FlowLimits new_flow() { return buckets.limits_for(kApp, Verdict{policy::Action::relay, std::nullopt, {}}); }

  store::Database db;
  store::PolicyStore store;
  PublishedPolicy policy;
  QuotaBuckets buckets{policy};
};

TEST_F(QuotaBucketsTest, UnderAThrottlingCapFlowsRunAtTheQuotasRates) {
  set_quota(policy::OnExceed::throttle);
  const relay::FlowLimits limits = new_flow();
  ASSERT_EQ(limits.up.size(), 1u);
  ASSERT_EQ(limits.down.size(), 1u);
  EXPECT_EQ(limits.up[0]->rate(), kRateUp);
  EXPECT_EQ(limits.down[0]->rate(), kRateDown);
}

TEST_F(QuotaBucketsTest, OverAThrottlingCapANewFlowRunsAtTheThrottleRate) {
  set_quota(policy::OnExceed::throttle);
  buckets.set_over_volume_keys({policy.quota_key(kApp)});
  EXPECT_TRUE(buckets.over_volume(kApp));
  const relay::FlowLimits limits = new_flow();
  ASSERT_EQ(limits.up.size(), 1u);
  ASSERT_EQ(limits.down.size(), 1u);
  EXPECT_EQ(limits.up[0]->rate(), kThrottle);
  EXPECT_EQ(limits.down[0]->rate(), kThrottle);
  EXPECT_EQ(limits.up[0]->burst(), relay::default_burst(kThrottle)) << "no configured burst survives the throttle";
}

TEST_F(QuotaBucketsTest, RunningFlowsAreTurnedDownAtTheCapAndUpAgainWhenItIsLifted) {
  set_quota(policy::OnExceed::throttle);
  const relay::FlowLimits running = new_flow();
  ASSERT_EQ(running.up.size(), 1u);
  buckets.set_over_volume_keys({policy.quota_key(kApp)});
  buckets.refresh();
  EXPECT_EQ(running.up[0]->rate(), kThrottle);
  EXPECT_EQ(running.down[0]->rate(), kThrottle);
  buckets.set_over_volume_keys({});  // a new period, or the cap raised
  buckets.refresh();
  EXPECT_EQ(running.up[0]->rate(), kRateUp);
  EXPECT_EQ(running.down[0]->rate(), kRateDown);
}

TEST_F(QuotaBucketsTest, OverABlockingCapNothingIsSlowed) {
  set_quota(policy::OnExceed::block);
  const relay::FlowLimits running = new_flow();
  buckets.set_over_volume_keys({policy.quota_key(kApp)});
  buckets.refresh();
  ASSERT_EQ(running.up.size(), 1u);
  EXPECT_EQ(running.up[0]->rate(), kRateUp);
  EXPECT_EQ(running.down[0]->rate(), kRateDown);
}

TEST_F(QuotaBucketsTest, OverTheGlobalThrottlingCapEveryFlowRunsAtItsThrottleRate) {
  set_quota(policy::OnExceed::throttle, /*global=*/true);
  buckets.set_over_volume_keys({kGlobalQuotaKey});
  const relay::FlowLimits limits = new_flow();
  ASSERT_EQ(limits.up.size(), 1u) << "the program has no quota of its own: only the global bucket";
  EXPECT_EQ(limits.up[0]->rate(), kThrottle);
  EXPECT_EQ(limits.down[0]->rate(), kThrottle);
}

}  // namespace
}  // namespace sluice::service
