#include "service/store/policy_store.h"

#include <gtest/gtest.h>

#include "schema/embedded_migrations.h"
#include "service/store/migrations.h"
#include "tests/support/temp_dir.h"

namespace sluice::store {
namespace {

using policy::json;

class PolicyStoreTest : public ::testing::Test {
 protected:
  PolicyStoreTest() : db(":memory:"), store(db) { migrate(db, schema::embedded_migrations()); }

  policy::Rule rule(const std::string& app, const char* action = "relay") {
    return policy::rule_from_json(json{{"app", app}, {"action", action}}, "rule");
  }

  std::vector<std::string> apps_in_order() {
    std::vector<std::string> apps;
    for (const auto& r : store.rules()) apps.push_back(r.app);
    return apps;
  }

  Database db;
  PolicyStore store;
  Actor admin{0, "root", 42, "/usr/bin/sluicectl"};
};

TEST_F(PolicyStoreTest, AddsRulesAtTheEndOrAtAPosition) {
  auto a = store.add_rule(rule("/bin/a"), std::nullopt, admin);
  store.add_rule(rule("/bin/b"), std::nullopt, admin);
  store.add_rule(rule("/bin/c"), 1, admin);
  store.add_rule(rule("/bin/d"), 99, admin);
  EXPECT_EQ(apps_in_order(), (std::vector<std::string>{"/bin/c", "/bin/a", "/bin/b", "/bin/d"}));
  EXPECT_GT(a.id, 0);
  EXPECT_FALSE(a.created_at.empty());
  std::int64_t expected = 1;
  for (const auto& r : store.rules()) EXPECT_EQ(r.position, expected++) << "positions stay dense";
}

TEST_F(PolicyStoreTest, MovesKeepPositionsDense) {
  std::vector<std::int64_t> ids;
  for (const char* app : {"/a", "/b", "/c", "/d", "/e"}) ids.push_back(store.add_rule(rule(app), std::nullopt, admin).id);
  ASSERT_TRUE(store.move_rule(ids[4], 1, admin));
  EXPECT_EQ(apps_in_order(), (std::vector<std::string>{"/e", "/a", "/b", "/c", "/d"}));
  ASSERT_TRUE(store.move_rule(ids[0], 4, admin));
  EXPECT_EQ(apps_in_order(), (std::vector<std::string>{"/e", "/b", "/c", "/a", "/d"}));
  ASSERT_TRUE(store.move_rule(ids[1], 100, admin));
  EXPECT_EQ(apps_in_order(), (std::vector<std::string>{"/e", "/c", "/a", "/d", "/b"}));
  EXPECT_FALSE(store.move_rule(9999, 1, admin));
}

TEST_F(PolicyStoreTest, RemoveAndEnable) {
  auto a = store.add_rule(rule("/a"), std::nullopt, admin);
  auto b = store.add_rule(rule("/b"), std::nullopt, admin);
  ASSERT_TRUE(store.set_rule_enabled(b.id, false, admin));
  EXPECT_FALSE(store.rule(b.id)->enabled);
  ASSERT_TRUE(store.remove_rule(a.id, admin));
  EXPECT_FALSE(store.rule(a.id));
  EXPECT_EQ(store.rule(b.id)->position, 1);
  EXPECT_FALSE(store.remove_rule(a.id, admin));
  EXPECT_FALSE(store.set_rule_enabled(a.id, true, admin));
}

TEST_F(PolicyStoreTest, RulesRoundTripEveryField) {
  auto in = policy::rule_from_json(json::parse(R"({"app": "/usr/bin/curl", "user": "alice", "protocol": "udp",
      "action": "block", "destinations": ["10.0.0.0/8", "2001:db8::/32"], "ports": ["53", "8000-8100"],
      "rate": {"up": 1000, "down": null}, "comment": "c", "enabled": false})"),
                                   "r");
  auto stored = store.add_rule(in, std::nullopt, admin);
  auto out = *store.rule(stored.id);
  EXPECT_EQ(policy::rule_to_json(out), policy::rule_to_json(stored));
  EXPECT_EQ(out.app, in.app);
  EXPECT_EQ(out.user, in.user);
  EXPECT_EQ(out.destinations, in.destinations);
  EXPECT_EQ(out.ports, in.ports);
  EXPECT_EQ(out.rate, in.rate);
  EXPECT_EQ(out.enabled, false);
}

TEST_F(PolicyStoreTest, EveryChangeIsAudited) {
  auto a = store.add_rule(rule("/a"), std::nullopt, admin);
  store.move_rule(a.id, 1, admin);
  store.set_setting("default_action", "block", Actor{1000, "alice", 7, "/x"});
  auto entries = store.audit(10, std::nullopt);
  ASSERT_EQ(entries.size(), 3u);
  EXPECT_EQ(entries[0].action, "setting.set") << "newest first";
  EXPECT_EQ(entries[0].account, "alice");
  EXPECT_EQ(entries[0].uid, 1000);
  EXPECT_EQ(entries[2].action, "rule.add");
  EXPECT_EQ(entries[2].pid, 42);
  EXPECT_EQ(entries[2].executable, "/usr/bin/sluicectl");
  EXPECT_EQ(entries[2].detail["app"], "/a");
  EXPECT_EQ(store.audit(1, std::nullopt).size(), 1u);
}

TEST_F(PolicyStoreTest, QuotasUpsertAndClear) {
  auto q = policy::quota_from_json(json::parse(R"({"app": "/bin/x", "rate": {"down": 100}})"), "q");
  store.set_quota(q, admin);
  q.rate.up = 50;
  auto stored = store.set_quota(q, admin);
  EXPECT_EQ(stored.rate.up, 50u);
  EXPECT_EQ(store.quotas().size(), 1u);
  auto global = policy::quota_from_json(json::parse(R"({"global": true, "volume": {"bytes": 1000, "period": "week"}})"), "q");
  store.set_quota(global, admin);
  EXPECT_EQ(store.quota(true, "")->volume_period, policy::VolumePeriod::week);
  EXPECT_TRUE(store.clear_quota(false, "/bin/x", admin));
  EXPECT_FALSE(store.clear_quota(false, "/bin/x", admin));
  EXPECT_EQ(store.quotas().size(), 1u);
}

TEST_F(PolicyStoreTest, ImportReplaceMakesThePolicyTheDocument) {
  store.add_rule(rule("/old"), std::nullopt, admin);
  policy::PolicyDocument document;
  document.rules = {rule("/new1"), rule("/new2", "block")};
  document.settings = {{"default_action", "block"}};
  auto result = store.import_policy(document, ImportMode::replace, admin);
  EXPECT_EQ(result.rules_added, 2u);
  EXPECT_EQ(result.rules_removed, 1u);
  EXPECT_EQ(apps_in_order(), (std::vector<std::string>{"/new1", "/new2"}));
  EXPECT_EQ(store.settings()["default_action"], "block");
}

TEST_F(PolicyStoreTest, ImportMergeSkipsRulesAlreadyPresent) {
  store.add_rule(rule("/a"), std::nullopt, admin);
  policy::PolicyDocument document;
  document.rules = {rule("/a"), rule("/b")};
  auto result = store.import_policy(document, ImportMode::merge, admin);
  EXPECT_EQ(result.rules_added, 1u);
  EXPECT_EQ(result.rules_skipped, 1u);
  EXPECT_EQ(apps_in_order(), (std::vector<std::string>{"/a", "/b"}));
}

TEST_F(PolicyStoreTest, ExportIsWhatImportReproduces) {
  store.add_rule(rule("/a"), std::nullopt, admin);
  store.add_rule(rule("/b", "block"), std::nullopt, admin);
  store.set_setting("fail_mode", "closed", admin);
  auto exported = store.export_policy();
  Database other(":memory:");
  migrate(other, schema::embedded_migrations());
  PolicyStore copy(other);
  copy.import_policy(policy::document_from_json(policy::document_to_json(exported)), ImportMode::replace, admin);
  EXPECT_EQ(policy::document_to_json(copy.export_policy()), policy::document_to_json(exported));
  EXPECT_FALSE(exported.settings.contains("instance_id")) << "an installation's identity is not policy";
}

TEST_F(PolicyStoreTest, IdsOfRemovedRulesAreNeverHandedOutAgain) {
  auto a = store.add_rule(rule("/a"), std::nullopt, admin);
  auto b = store.add_rule(rule("/b"), std::nullopt, admin);
  auto c = store.add_rule(rule("/c"), std::nullopt, admin);
  ASSERT_TRUE(store.remove_rule(c.id, admin));  // the highest: max(id) + 1 would give it again
  ASSERT_TRUE(store.remove_rule(b.id, admin));
  auto d = store.add_rule(rule("/d"), std::nullopt, admin);
  EXPECT_GT(d.id, c.id);
  EXPECT_NE(d.id, b.id);
  EXPECT_EQ(store.rule(a.id)->app, "/a");
}

TEST_F(PolicyStoreTest, ImportReplaceKeepsTheIdsOfRulesItRepeats) {
  auto a = store.add_rule(rule("/a"), std::nullopt, admin);
  auto b = store.add_rule(rule("/b", "block"), std::nullopt, admin);
  auto gone = store.add_rule(rule("/gone"), std::nullopt, admin);
  policy::PolicyDocument document;
  document.rules = {rule("/b", "block"), rule("/new"), rule("/a")};
  auto result = store.import_policy(document, ImportMode::replace, admin);
  EXPECT_EQ(result.rules_added, 1u);
  EXPECT_EQ(result.rules_removed, 1u);
  EXPECT_EQ(result.rules_skipped, 2u);
  EXPECT_TRUE(result.rules_reordered);
  auto rules = store.rules();
  ASSERT_EQ(rules.size(), 3u);
  EXPECT_EQ(rules[0].id, b.id) << "matched by content, moved to the document's order";
  EXPECT_EQ(rules[2].id, a.id);
  EXPECT_GT(rules[1].id, gone.id) << "the new rule gets a new id, not the removed one's";
  ASSERT_EQ(result.removed.size(), 1u);
  EXPECT_EQ(result.removed[0].id, gone.id);

  auto entry = store.audit(1, std::nullopt).at(0);
  EXPECT_EQ(entry.action, "policy.import");
  EXPECT_EQ(entry.detail["removed"][0]["id"], gone.id) << "the audit trail says what was removed";
  EXPECT_EQ(entry.detail["removed"][0]["app"], "/gone");
  EXPECT_EQ(entry.detail["added"][0]["id"], rules[1].id);
  EXPECT_EQ(entry.detail["added"][0]["app"], "/new");
}

TEST_F(PolicyStoreTest, ImportingWhatIsThereChangesNothingAndIsNotAudited) {
  store.add_rule(rule("/a"), std::nullopt, admin);
  store.add_rule(rule("/b", "block"), std::nullopt, admin);
  store.set_quota(policy::quota_from_json(json::parse(R"({"app": "/bin/x", "volume": {"bytes": "10GB"}})"), "q"), admin);
  store.set_setting("fail_mode", "closed", admin);
  const auto document = policy::document_from_json(policy::document_to_json(store.export_policy()));
  const auto before = policy::document_to_json(store.export_policy());
  const auto audited = store.audit(100, std::nullopt).size();
  for (auto mode : {ImportMode::replace, ImportMode::merge, ImportMode::replace}) {
    auto result = store.import_policy(document, mode, admin);
    EXPECT_TRUE(result.unchanged());
    EXPECT_EQ(result.rules_added + result.rules_removed + result.quotas_set + result.settings_set, 0u);
  }
  EXPECT_EQ(policy::document_to_json(store.export_policy()), before) << "ids, timestamps and all";
  EXPECT_EQ(store.audit(100, std::nullopt).size(), audited);
}

TEST_F(PolicyStoreTest, ImportReplaceUpdatesACommentInPlace) {
  auto a = store.add_rule(rule("/a"), std::nullopt, admin);
  auto changed = rule("/a");
  changed.comment = "now explained";
  policy::PolicyDocument document;
  document.rules = {changed};
  auto result = store.import_policy(document, ImportMode::replace, admin);
  EXPECT_EQ(result.rules_updated, 1u);
  EXPECT_EQ(result.rules_added + result.rules_removed, 0u);
  EXPECT_EQ(store.rule(a.id)->comment, "now explained");
}

TEST_F(PolicyStoreTest, ADryRunImportReportsAndWritesNothing) {
  store.add_rule(rule("/a"), std::nullopt, admin);
  const auto before = policy::document_to_json(store.export_policy());
  const auto audited = store.audit(100, std::nullopt).size();
  policy::PolicyDocument document;
  document.rules = {rule("/b")};
  document.settings = {{"default_action", "block"}};
  auto result = store.import_policy(document, ImportMode::replace, admin, /*dry_run=*/true);
  EXPECT_EQ(result.rules_added, 1u);
  EXPECT_EQ(result.rules_removed, 1u);
  EXPECT_EQ(result.settings_set, 1u);
  EXPECT_EQ(policy::document_to_json(store.export_policy()), before);
  EXPECT_EQ(store.audit(100, std::nullopt).size(), audited);
}

TEST_F(PolicyStoreTest, EditKeepsTheIdAndIsAuditedWithBeforeAndAfter) {
  auto a = store.add_rule(rule("/a"), std::nullopt, admin);
  auto b = store.add_rule(rule("/b"), std::nullopt, admin);
  auto edit = store.edit_rule(a.id, rule("/a2", "block"), 2, admin);
  ASSERT_TRUE(edit);
  EXPECT_TRUE(edit->changed);
  EXPECT_EQ(edit->after.id, a.id);
  EXPECT_EQ(edit->after.app, "/a2");
  EXPECT_EQ(edit->after.created_at, a.created_at);
  EXPECT_EQ(apps_in_order(), (std::vector<std::string>{"/b", "/a2"}));
  EXPECT_EQ(store.rule(b.id)->position, 1);
  auto entry = store.audit(1, std::nullopt).at(0);
  EXPECT_EQ(entry.action, "rule.edit");
  EXPECT_EQ(entry.detail["before"]["app"], "/a");
  EXPECT_EQ(entry.detail["after"]["app"], "/a2");
  const auto audited = store.audit(100, std::nullopt).size();
  EXPECT_FALSE(store.edit_rule(a.id, rule("/a2", "block"), std::nullopt, admin)->changed);
  EXPECT_EQ(store.edit_rule(a.id, rule("/a3"), std::nullopt, admin, /*dry_run=*/true)->after.app, "/a3");
  EXPECT_EQ(store.rule(a.id)->app, "/a2") << "a dry run writes nothing";
  EXPECT_EQ(store.audit(100, std::nullopt).size(), audited);
  EXPECT_FALSE(store.edit_rule(9999, rule("/x"), std::nullopt, admin));
}

// An import of many rules lists at most kListedRules of them, in its answer and in
// its audit entry, so neither outgrows a control message; the counts are complete.
TEST_F(PolicyStoreTest, AnImportListsAtMostKListedRulesOfEachKind) {
  policy::PolicyDocument document;
  for (std::size_t i = 0; i < kListedRules + 50; ++i) document.rules.push_back(rule("/bin/p" + std::to_string(i)));
  auto result = store.import_policy(document, ImportMode::replace, admin);
  EXPECT_EQ(result.rules_added, kListedRules + 50);
  EXPECT_EQ(result.added.size(), kListedRules);
  auto entry = store.audit(1, std::nullopt).at(0);
  EXPECT_EQ(entry.detail["added"].size(), kListedRules);
  EXPECT_EQ(entry.detail["rules_added"], kListedRules + 50);
}

TEST_F(PolicyStoreTest, UsageAddsUpPerAppAndDay) {
  store.add_usage({{"/bin/x", "2026-11-20", 100, 10, 1, 1, 0}, {"/bin/y", "2026-11-20", 5, 5, 1, 1, 2}});
  store.add_usage({{"/bin/x", "2026-11-20", 1, 1, 1, 1, 0}, {"/bin/x", "2026-11-21", 1000, 0, 1, 0, 0}});
  auto totals = store.usage(std::nullopt, std::nullopt, false);
  ASSERT_EQ(totals.size(), 2u);
  EXPECT_EQ(totals[0].app, "/bin/x") << "biggest first";
  EXPECT_EQ(totals[0].bytes_up, 1101u);
  EXPECT_EQ(totals[0].first_day, "2026-11-20");
  EXPECT_EQ(totals[1].dropped, 2u);
  auto by_day = store.usage(std::string("/bin/x"), std::nullopt, true);
  ASSERT_EQ(by_day.size(), 2u);
  EXPECT_EQ(by_day[0].bytes_up, 101u);
  auto since = store.usage(std::nullopt, std::string("2026-11-21"), false);
  ASSERT_EQ(since.size(), 1u);
  EXPECT_EQ(since[0].bytes_up, 1000u);
}

TEST_F(PolicyStoreTest, SurvivesReopeningTheFile) {
  test::TempDir dir;
  std::int64_t id = 0;
  {
    Database file(dir.file("p.db"));
    migrate(file, schema::embedded_migrations());
    PolicyStore s(file);
    id = s.add_rule(rule("/kept"), std::nullopt, admin).id;
  }
  Database file(dir.file("p.db"));
  PolicyStore s(file);
  ASSERT_TRUE(s.rule(id));
  EXPECT_EQ(s.rule(id)->app, "/kept");
}

}  // namespace
}  // namespace sluice::store
