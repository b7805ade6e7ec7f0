// service/rpc/policy_warnings.cpp: settings that are accepted but do nothing are named,
// and only those: a rule that does decide draws no warning.
#include <gtest/gtest.h>

#include "common/platform/platform.h"
#include "service/policy/address.h"
#include "service/rpc/policy_warnings.h"

namespace sluice::service {
namespace {

using policy::Action;
using policy::Rule;

Rule rule(std::int64_t id, const std::string& app, Action action) {
  Rule r;
  r.id = id;
  r.position = id;
  r.app = app;
  r.action = action;
  return r;
}

bool mentions(const std::vector<std::string>& warnings, const std::string& text) {
  for (const auto& w : warnings) {
    if (w.find(text) != std::string::npos) return true;
  }
  return false;
}

const policy::MatcherOptions kOptions{};

TEST(PolicyWarningsTest, ARateOnABlockOrDirectRuleDoesNothing) {
  for (Action action : {Action::block, Action::direct}) {
    Rule r = rule(0, "/usr/bin/curl", action);
    r.rate.down = 1000;
    EXPECT_TRUE(mentions(rule_warnings(r, 0, {}, kOptions), "only relayed flows are rate-limited")) << policy::to_string(action);
  }
  Rule relayed = rule(0, "/usr/bin/curl", Action::relay);
  relayed.rate.down = 1000;
  EXPECT_TRUE(rule_warnings(relayed, 0, {}, kOptions).empty());
}

TEST(PolicyWarningsTest, AnUnknownUserIsNamed) {
  Rule r = rule(0, "/usr/bin/curl", Action::block);
  r.user = "no-such-user-sluice-test";
  EXPECT_TRUE(mentions(rule_warnings(r, 0, {}, kOptions), "does not know"));
  // The user running this test is known: by name where the environment gives one, else uid 0.
  std::string me = platform::environment("USER");
  if (me.empty()) me = platform::environment("USERNAME");
  if (me.empty()) me = "0";
  ASSERT_TRUE(platform::find_user(me).uid >= 0 || !platform::find_user(me).account.empty()) << me;
  r.user = me;
  EXPECT_TRUE(rule_warnings(r, 0, {}, kOptions).empty()) << me;
}

TEST(PolicyWarningsTest, ARuleAfterACatchAllIsShadowed) {
  const std::vector<Rule> others = {rule(1, "**", Action::relay)};
  const Rule curl = rule(0, "/usr/bin/curl", Action::block);
  const auto after = rule_warnings(curl, 1, others, kOptions);
  EXPECT_TRUE(mentions(after, "is shadowed by rule 1")) << (after.empty() ? "" : after[0]);
  // Put before the catch-all, it decides: no warning.
  EXPECT_TRUE(rule_warnings(curl, 0, others, kOptions).empty());
  // A catch-all put in front of a rule hides that rule, and says so.
  const auto in_front = rule_warnings(rule(0, "**", Action::block), 0, {rule(2, "/usr/bin/curl", Action::relay)}, kOptions);
  EXPECT_TRUE(mentions(in_front, "so that rule would never decide"));
}

TEST(PolicyWarningsTest, CoveringIsJudgedFieldByField) {
  Rule earlier = rule(1, "/usr/bin/*", Action::block);
  earlier.ports = {policy::PortRange{1, 1024}};
  earlier.destinations = {*policy::parse_cidr("10.0.0.0/8")};
  Rule later = rule(2, "/usr/bin/curl", Action::relay);
  later.ports = {policy::PortRange{443, 443}};
  later.destinations = {*policy::parse_cidr("10.1.0.0/16")};
  EXPECT_TRUE(rule_covers(earlier, later, kOptions));
  later.ports = {};  // any port: more than 1-1024
  EXPECT_FALSE(rule_covers(earlier, later, kOptions));
  later.ports = {policy::PortRange{443, 443}};
  later.destinations = {*policy::parse_cidr("11.0.0.0/8")};
  EXPECT_FALSE(rule_covers(earlier, later, kOptions));
  later.destinations = {*policy::parse_cidr("10.1.0.0/16")};
  later.protocol = policy::Protocol::udp;
  earlier.protocol = policy::Protocol::tcp;
  EXPECT_FALSE(rule_covers(earlier, later, kOptions));
  earlier.protocol = policy::Protocol::any;
  later.user = "alice";
  EXPECT_TRUE(rule_covers(earlier, later, kOptions)) << "a rule for every user covers one for alice";
  EXPECT_FALSE(rule_covers(later, earlier, kOptions));
  // A disabled earlier rule decides nothing, so it shadows nothing.
  earlier.enabled = false;
  later.user.reset();
  EXPECT_FALSE(mentions(rule_warnings(later, 1, {earlier}, kOptions), "shadowed"));
}

TEST(PolicyWarningsTest, AnExactDuplicateIsNamedOnce) {
  const std::vector<Rule> others = {rule(7, "/usr/bin/curl", Action::block)};
  const auto warnings = rule_warnings(rule(0, "/usr/bin/curl", Action::block), 1, others, kOptions);
  ASSERT_EQ(warnings.size(), 1u);
  EXPECT_TRUE(mentions(warnings, "duplicate of rule 7"));
}

TEST(PolicyWarningsTest, AQuotaNoRelayRuleReachesLimitsNothing) {
  policy::Quota quota;
  quota.app = "/usr/bin/curl";
  quota.rate.down = 1000;
  EXPECT_TRUE(mentions(quota_warnings(quota, {rule(1, "/usr/bin/curl", Action::block)}, Action::direct, kOptions),
                       "no enabled relay rule reaches"));
  EXPECT_TRUE(quota_warnings(quota, {rule(1, "/usr/bin/*", Action::relay)}, Action::direct, kOptions).empty());
  EXPECT_TRUE(quota_warnings(quota, {}, Action::relay, kOptions).empty()) << "the default action relays it";
  Rule off = rule(1, "/usr/bin/curl", Action::relay);
  off.enabled = false;
  EXPECT_FALSE(quota_warnings(quota, {off}, Action::direct, kOptions).empty());
}

TEST(PolicyWarningsTest, StrictTurnsWarningsIntoARefusal) {
  EXPECT_NO_THROW(refuse_if_strict(protocol::json{{"strict", true}}, {}));
  EXPECT_NO_THROW(refuse_if_strict(protocol::json::object(), {"a warning"}));
  try {
    refuse_if_strict(protocol::json{{"strict", true}}, {"a warning"});
    FAIL() << "strict with a warning must refuse";
  } catch (const protocol::RpcError& e) {
    EXPECT_EQ(e.code(), protocol::kConflict);
    EXPECT_NE(std::string(e.what()).find("a warning"), std::string::npos);
    EXPECT_NE(std::string(e.what()).find("nothing was changed"), std::string::npos);
  }
}

}  // namespace
}  // namespace sluice::service
