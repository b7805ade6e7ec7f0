// FlowManager's per-program table (issue 17): any local user can run programs under as
// many paths as they like, so the table is bounded and idle programs age out.
#include "service/flows/flow_manager.h"

#include <gtest/gtest.h>

#include "net/ip_address.h"
#include "schema/embedded_migrations.h"
#include "service/store/migrations.h"

namespace sluice::service {
namespace {

using namespace std::chrono_literals;

class FlowManagerTableTest : public ::testing::Test {
 protected:
  FlowManagerTableTest() : db(":memory:"), store((store::migrate(db, schema::embedded_migrations()), db)), policy(store, {}) {}

  // A direct flow of `app` (no rule: the default action), so no relay is needed.
  static void decide(FlowManager& flows, const std::string& app) {
    FlowRequest request;
    request.destination = net::Endpoint{*net::parse_ip("127.0.0.1"), 80};
    request.local = net::Endpoint{*net::parse_ip("127.0.0.1"), 0};
    ASSERT_EQ(flows.register_flow(request, FlowOwner{1, 1000, "user", app}).action, policy::Action::direct);
  }
  static std::vector<std::string> apps(const FlowManager& flows) {
    std::vector<std::string> out;
    for (const auto& s : flows.app_stats().apps) out.push_back(s.app);
    return out;
  }

  store::Database db;
  store::PolicyStore store;
  PublishedPolicy policy;
  UsageLedger ledger;
};

TEST_F(FlowManagerTableTest, AFloodOfPathsNeverGrowsTheTablePastItsBound) {
  FlowManagerOptions options;
  options.sample_interval = 1h;  // samples only when the test asks
  options.max_apps = 64;
  FlowManager flows(policy, ledger, nullptr, options);
  for (int i = 0; i < 1000; ++i) decide(flows, "/tmp/crafted/" + std::string(200, 'a') + std::to_string(i));
  const AppTable table = flows.app_stats();
  EXPECT_LE(table.apps.size(), 64u);
  EXPECT_GE(table.apps.size(), 64u - 64u / 8) << "room is made an eighth at a time, not by emptying the table";
  EXPECT_EQ(table.aged_out + table.apps.size(), 1000u) << "every dropped program is counted";
}

TEST_F(FlowManagerTableTest, TheLongestIdleProgramsGoFirst) {
  FlowManagerOptions options;
  options.sample_interval = 1h;
  options.max_apps = 8;
  FlowManager flows(policy, ledger, nullptr, options);
  for (int i = 0; i < 8; ++i) decide(flows, "/bin/p" + std::to_string(i));
  decide(flows, "/bin/p0");  // p0 is now the most recently active
  decide(flows, "/bin/new");
  const auto kept = apps(flows);
  EXPECT_NE(std::find(kept.begin(), kept.end(), "/bin/p0"), kept.end());
  EXPECT_NE(std::find(kept.begin(), kept.end(), "/bin/new"), kept.end());
  EXPECT_EQ(std::find(kept.begin(), kept.end(), "/bin/p1"), kept.end()) << "p1 was idle longest";
}

TEST_F(FlowManagerTableTest, IdleProgramsAgeOutAtTheSample) {
  FlowManagerOptions options;
  options.sample_interval = 1h;
  options.app_idle = 0s;
  FlowManager flows(policy, ledger, nullptr, options);
  decide(flows, "/bin/a");
  EXPECT_EQ(apps(flows), std::vector<std::string>{"/bin/a"});
  flows.sample();
  EXPECT_TRUE(apps(flows).empty());
  EXPECT_EQ(flows.app_stats().aged_out, 1u);
}

TEST_F(FlowManagerTableTest, ProgramsKeepTheirCountersWhileActive) {
  FlowManagerOptions options;
  options.sample_interval = 1h;
  FlowManager flows(policy, ledger, nullptr, options);  // app_idle: an hour
  decide(flows, "/bin/a");
  decide(flows, "/bin/a");
  flows.sample();
  const AppTable table = flows.app_stats();
  ASSERT_EQ(table.apps.size(), 1u);
  EXPECT_EQ(table.apps[0].decided_direct, 2u);
  EXPECT_EQ(table.aged_out, 0u);
}

// The throttle switch as a new flow meets it: a reached cap that blocks refuses the
// program's flows (direct ones too: they would use the network around the relay); one
// that throttles refuses nothing, and the buckets slow the flows instead
// (quota_buckets_test).
TEST_F(FlowManagerTableTest, AReachedCapRefusesNewFlowsOnlyWhenItBlocks) {
  for (const auto on_exceed : {policy::OnExceed::block, policy::OnExceed::throttle}) {
    const std::string app = std::string("/bin/") + policy::to_string(on_exceed);
    policy::Quota quota;
    quota.app = app;
    quota.volume_bytes = 1000;
    quota.volume_period = policy::VolumePeriod::day;
    quota.on_exceed = on_exceed;
    if (on_exceed == policy::OnExceed::throttle) quota.throttle_rate = 65'536;
    store.set_quota(quota, store::Actor{});
    store.add_usage({store::UsageDelta{app, utc_day(), 600, 600}});
  }
  policy.reload();
  FlowManagerOptions options;
  options.sample_interval = 1h;
  FlowManager flows(policy, ledger, nullptr, options);
  FlowRequest request;
  request.destination = net::Endpoint{*net::parse_ip("127.0.0.1"), 80};

  const FlowDecision blocked = flows.decide(request, FlowOwner{1, 1000, "user", "/bin/block"});
  EXPECT_EQ(blocked.action, policy::Action::block);
  EXPECT_EQ(blocked.reason, relay::kVolumeCapReached);

  const FlowDecision throttled = flows.decide(request, FlowOwner{1, 1000, "user", "/bin/throttle"});
  EXPECT_EQ(throttled.action, policy::Action::direct) << throttled.reason;
  EXPECT_EQ(throttled.reason, "default action");
  const std::optional<CapState> cap = flows.cap_state("/bin/throttle");
  ASSERT_TRUE(cap);
  EXPECT_TRUE(cap->reached) << "over its cap, yet not refused: " << cap->used << " of " << cap->limit;
}

}  // namespace
}  // namespace sluice::service
