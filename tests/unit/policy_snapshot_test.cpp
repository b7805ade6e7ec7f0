// PublishedPolicy (service/flows/policy_snapshot.h): the policy a running sluiced
// decides flows by, compiled from the store and republished after each change.
#include "service/flows/policy_snapshot.h"

#include <gtest/gtest.h>

#include "schema/embedded_migrations.h"
#include "service/policy/address.h"
#include "service/store/migrations.h"

namespace sluice::service {
namespace {

class PolicySnapshotTest : public ::testing::Test {
 protected:
  PolicySnapshotTest() : db(":memory:"), store((store::migrate(db, schema::embedded_migrations()), db)) {}

  static policy::Rule rule(const std::string& app, policy::Action action, const char* destination = nullptr) {
    policy::Rule r;
    r.app = app;
    r.action = action;
    if (destination) r.destinations.push_back(*policy::parse_cidr(destination));
    return r;
  }
  static policy::FlowKey flow(const std::string& app, const char* destination = "192.0.2.10", std::uint16_t port = 443) {
    return policy::FlowKey{app, {"1000", "alice"}, policy::Protocol::tcp, *net::parse_ip(destination), port};
  }
  std::int64_t add(policy::Rule r) { return store.add_rule(std::move(r), std::nullopt, admin).id; }

  store::Database db;
  store::PolicyStore store;
  store::Actor admin{0, "root", 1, "/usr/bin/sluicectl"};
};

TEST_F(PolicySnapshotTest, TheFirstMatchingEnabledRuleDecidesAndCarriesItsRate) {
  add(rule("/usr/bin/curl", policy::Action::block, "10.0.0.0/8"));
  policy::Rule relayed = rule("/usr/bin/curl", policy::Action::relay);
  relayed.rate.down = 65536;
  const std::int64_t relay_id = add(relayed);
  policy::Rule disabled = rule("/usr/bin/wget", policy::Action::block);
  disabled.enabled = false;
  add(disabled);
  PublishedPolicy policy(store, {});

  const Verdict to_internal = policy.decide(flow("/usr/bin/curl", "10.1.2.3"));
  EXPECT_EQ(to_internal.action, policy::Action::block);

  const Verdict elsewhere = policy.decide(flow("/usr/bin/curl"));
  EXPECT_EQ(elsewhere.action, policy::Action::relay) << "the block rule's destinations do not hold";
  EXPECT_EQ(elsewhere.rule_id, relay_id);
  EXPECT_EQ(elsewhere.rate.down, 65536u);

  const Verdict unmatched = policy.decide(flow("/usr/bin/wget"));
  EXPECT_EQ(unmatched.action, policy::Action::direct) << "a disabled rule decides nothing";
  EXPECT_FALSE(unmatched.rule_id) << "the default action decided";
}

TEST_F(PolicySnapshotTest, TheDefaultActionIsTheStoredSetting) {
  store.set_setting("default_action", "block", admin);
  PublishedPolicy policy(store, {});
  const Verdict v = policy.decide(flow("/usr/bin/anything"));
  EXPECT_EQ(v.action, policy::Action::block);
  EXPECT_FALSE(v.rule_id);
}

TEST_F(PolicySnapshotTest, AChangeTakesEffectAtReloadAndAHeldSnapshotStaysAsItWas) {
  PublishedPolicy policy(store, {});
  const auto before = policy.snapshot();
  add(rule("/usr/bin/curl", policy::Action::block));
  EXPECT_EQ(policy.decide(flow("/usr/bin/curl")).action, policy::Action::direct) << "not yet published";

  policy.reload();
  EXPECT_EQ(policy.decide(flow("/usr/bin/curl")).action, policy::Action::block);
  EXPECT_GT(policy.snapshot()->generation, before->generation);
  EXPECT_TRUE(before->rules.empty()) << "a reader's snapshot is never changed under it";
  EXPECT_FALSE(before->matcher.decide(flow("/usr/bin/curl")));
}

TEST_F(PolicySnapshotTest, QuotasAreFoundByTheirKeyFoldedWherePathsIgnoreCase) {
  policy::Quota quota;
  quota.app = "C:\\Tools\\Curl.exe";
  quota.rate.up = 1000;
  store.set_quota(quota, admin);
  policy::Quota global;
  global.global = true;
  global.rate.down = 5000;
  store.set_quota(global, admin);

  PublishedPolicy folding(store, policy::MatcherOptions{true});
  ASSERT_TRUE(folding.quota_for("c:\\tools\\curl.exe"));
  EXPECT_EQ(folding.quota_for("c:\\tools\\curl.exe")->rate.up, 1000u);
  EXPECT_EQ(folding.snapshot()->global_quota->rate.down, 5000u) << "the global quota is apart from the programs'";
  EXPECT_FALSE(folding.quota_for("")) << "the global quota is not a program's";

  PublishedPolicy exact(store, policy::MatcherOptions{false});
  EXPECT_FALSE(exact.quota_for("c:\\tools\\curl.exe"));
  EXPECT_TRUE(exact.quota_for("C:\\Tools\\Curl.exe"));
}

TEST_F(PolicySnapshotTest, HitsAreCountedPerRuleAndARemovedRulesGoAtTheNextReload) {
  const std::int64_t kept = add(rule("/usr/bin/a", policy::Action::block));
  const std::int64_t removed = add(rule("/usr/bin/b", policy::Action::block));
  PublishedPolicy policy(store, {});
  policy.count_hit(kept);
  policy.count_hit(kept);
  policy.count_hit(removed);
  EXPECT_EQ(policy.hits(kept), 2u);
  EXPECT_EQ(policy.hits(removed), 1u);

  store.remove_rule(removed, admin);
  policy.reload();
  EXPECT_EQ(policy.hits(kept), 2u) << "a reload keeps the counts of rules still there";
  EXPECT_EQ(policy.hits(removed), 0u);
}

}  // namespace
}  // namespace sluice::service
