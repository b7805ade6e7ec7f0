// The policy API over the real control transport (Unix socket, or the named pipe
// under Wine) against the real service body: what sluicectl relies on.
#include <gtest/gtest.h>

#include <filesystem>
#include <set>

#include "control/protocol/paging.h"
#include "control/transport/rpc_client.h"
#include "schema/embedded_migrations.h"
#include "service/store/migrations.h"
#include "service/store/policy_store.h"
#include "tests/support/program_path.h"
#include "tests/support/running_service.h"
#include "tests/support/temp_dir.h"

namespace sluice::service {
namespace {

using namespace std::chrono_literals;
using protocol::json;

class PolicyMethodsTest : public ::testing::Test {
 protected:
  PolicyMethodsTest() : config_{dir.file("state"), test::unique_endpoint(dir), spdlog::level::warn}, service(config_) {}

  transport::RpcClient client() { return transport::RpcClient(config_.control_endpoint, 10s, "test"); }

  int error_code(const std::string& method, const json& params) {
    try {
      client().call(method, params);
    } catch (const protocol::RpcError& e) {
      return e.code();
    }
    return 0;
  }

  test::TempDir dir;
  ServiceConfig config_;
  test::RunningService service;
};

TEST_F(PolicyMethodsTest, RulesAreAddedMovedAndDecided) {
  auto c = client();
  json relay = c.call("rule.add", {{"rule", {{"app", test::program_path("curl")}, {"action", "relay"}, {"destinations", {"127.0.0.0/8", "::1"}}}}})["rule"];
  json block = c.call("rule.add", {{"rule", {{"action", "block"}, {"ports", {"25"}}}}})["rule"];
  EXPECT_EQ(relay["position"], 1);
  EXPECT_EQ(block["position"], 2);

  json check = c.call("policy.check", {{"app", test::program_path("curl")}, {"destination", "::1"}, {"port", 25}, {"protocol", "tcp"}});
  EXPECT_EQ(check["action"], "relay") << "rule 1 comes first";
  c.call("rule.move", {{"id", block["id"]}, {"position", 1}});
  check = c.call("policy.check", {{"app", test::program_path("curl")}, {"destination", "::1"}, {"port", 25}, {"protocol", "tcp"}});
  EXPECT_EQ(check["action"], "block");
  EXPECT_EQ(check["rule_id"], block["id"]);

  check = c.call("policy.check", {{"app", test::program_path("wget")}, {"destination", "192.0.2.1"}, {"port", 80}});
  EXPECT_TRUE(check["rule_id"].is_null());
  EXPECT_EQ(check["action"], "direct") << "the embedded default";
  c.call("settings.set", {{"key", "default_action"}, {"value", "block"}});
  EXPECT_EQ(c.call("policy.check", {{"app", test::program_path("wget")}, {"destination", "192.0.2.1"}, {"port", 80}})["action"], "block");
  EXPECT_EQ(c.call("service.status")["policy"]["rules"], 2);
}

TEST_F(PolicyMethodsTest, BadParametersNameTheField) {
  auto c = client();
  try {
    c.call("rule.add", {{"rule", {{"action", "block"}, {"destinations", {"10.0.0.300/8"}}}}});
    FAIL();
  } catch (const protocol::RpcError& e) {
    EXPECT_EQ(e.code(), protocol::kInvalidParams);
    EXPECT_EQ(e.data()["field"], "rule.destinations[0]");
  }
  EXPECT_EQ(error_code("rule.add", {{"rule", "block"}}), protocol::kInvalidParams);
  EXPECT_EQ(error_code("rule.remove", {{"id", "seven"}}), protocol::kInvalidParams);
  EXPECT_EQ(error_code("rule.remove", {{"id", 777}}), protocol::kNotFound);
  EXPECT_EQ(error_code("policy.check", {{"app", "/x"}, {"destination", "nowhere"}, {"port", 1}}), protocol::kInvalidParams);
  EXPECT_EQ(error_code("usage.show", {{"since", "2026-13-01"}}), protocol::kInvalidParams);
}

TEST_F(PolicyMethodsTest, RuleListPagesAtOneGeneration) {
  json rules = json::array();
  for (int i = 0; i < 2100; ++i) rules.push_back({{"action", "block"}, {"ports", {std::to_string(1 + i)}}});
  auto c = client();
  c.call("policy.import", {{"mode", "replace"}, {"document", {{"sluice_policy", 1}, {"rules", rules}}}});
  json first = c.call("rule.list", {{"offset", 0}});
  EXPECT_EQ(first["total"], 2100);
  EXPECT_EQ(first["rules"].size(), 2000u) << "a page fits one frame";
  json second = c.call("rule.list", {{"offset", 2000}});
  EXPECT_EQ(second["rules"].size(), 100u);
  EXPECT_EQ(second["generation"], first["generation"]);
  EXPECT_EQ(second["rules"][0]["position"], 2001);
  json export_answer = c.call("policy.export");
  EXPECT_FALSE(export_answer["rules_included"].get<bool>()) << "too many rules for one answer: the client pages";
  EXPECT_EQ(export_answer["rule_count"], 2100);
}

TEST_F(PolicyMethodsTest, ABrokenImportChangesNothing) {
  auto c = client();
  c.call("rule.add", {{"rule", {{"action", "relay"}}}});
  const json before = c.call("policy.export")["document"];
  json broken = {{"sluice_policy", 1}, {"rules", {{{"action", "block"}}, {{"action", "allow"}}}}};
  try {
    c.call("policy.import", {{"mode", "replace"}, {"document", broken}});
    FAIL();
  } catch (const protocol::RpcError& e) {
    EXPECT_EQ(e.code(), protocol::kInvalidParams);
    EXPECT_EQ(e.data()["field"], "rules[1].action");
  }
  EXPECT_EQ(c.call("policy.export")["document"], before);
}

TEST_F(PolicyMethodsTest, ImportingTheSameDocumentTwiceIsUnchangedAndPublishesNothing) {
  auto c = client();
  json document = {{"sluice_policy", 1},
                   {"rules", {{{"action", "relay"}, {"app", test::program_path("curl")}}, {{"action", "block"}, {"ports", {"25"}}}}},
                   {"quotas", {{{"app", test::program_path("curl")}, {"rate", {{"down", "1MiB/s"}}}}}},
                   {"settings", {{"fail_mode", "closed"}}}};
  json first = c.call("policy.import", {{"mode", "replace"}, {"document", document}});
  EXPECT_FALSE(first["unchanged"].get<bool>());
  EXPECT_EQ(first["rules_added"], 2);
  const json ids = c.call("rule.list")["rules"];
  const auto generation = c.call("service.status")["policy"]["generation"];
  const auto audited = c.call("audit.list", {{"limit", 100}})["entries"].size();
  for (const char* mode : {"replace", "merge"}) {
    json again = c.call("policy.import", {{"mode", mode}, {"document", document}});
    EXPECT_TRUE(again["unchanged"].get<bool>()) << mode << ": " << again.dump();
    EXPECT_EQ(again["rules_added"], 0) << mode;
    EXPECT_EQ(again["rules_removed"], 0) << mode;
  }
  EXPECT_EQ(c.call("service.status")["policy"]["generation"], generation) << "nothing changed, nothing published";
  EXPECT_EQ(c.call("audit.list", {{"limit", 100}})["entries"].size(), audited) << "and nothing audited";
  EXPECT_EQ(c.call("rule.list")["rules"], ids) << "ids and timestamps kept";

  // A real change is audited with the rules it added and removed.
  document["rules"].erase(0);
  json changed = c.call("policy.import", {{"mode", "replace"}, {"document", document}});
  EXPECT_EQ(changed["rules_removed"], 1);
  EXPECT_NE(c.call("service.status")["policy"]["generation"], generation);
  json entry = c.call("audit.list", {{"limit", 1}})["entries"][0];
  EXPECT_EQ(entry["action"], "policy.import");
  EXPECT_EQ(entry["detail"]["removed"][0]["id"], ids[0]["id"]);
  EXPECT_EQ(entry["detail"]["removed"][0]["app"], test::program_path("curl"));
}

TEST_F(PolicyMethodsTest, RuleEditChangesOnlyWhatItNamesAndKeepsTheId) {
  auto c = client();
  json rule = c.call("rule.add", {{"rule", {{"app", test::program_path("curl")}, {"action", "relay"}, {"ports", {"443"}},
                                            {"rate", {{"up", 1000}, {"down", 2000}}}}}})["rule"];
  json edited = c.call("rule.edit", {{"id", rule["id"]}, {"rule", {{"action", "block"}, {"rate", {{"up", nullptr}}}}}});
  EXPECT_TRUE(edited["changed"].get<bool>());
  EXPECT_EQ(edited["rule"]["id"], rule["id"]);
  EXPECT_EQ(edited["rule"]["action"], "block");
  EXPECT_EQ(edited["rule"]["ports"], json({"443"})) << "not named, kept";
  EXPECT_TRUE(edited["rule"]["rate"]["up"].is_null());
  EXPECT_EQ(edited["rule"]["rate"]["down"], 2000);
  EXPECT_EQ(c.call("policy.check", {{"app", test::program_path("curl")}, {"destination", "192.0.2.1"}, {"port", 443}})["action"], "block")
      << "enforced at once";
  EXPECT_EQ(error_code("rule.edit", {{"id", rule["id"]}, {"rule", {{"destinations", {"10.0.0.300/8"}}}}}), protocol::kInvalidParams);
  EXPECT_EQ(error_code("rule.edit", {{"id", rule["id"]}, {"rule", {{"id", 5}}}}), protocol::kInvalidParams);
  EXPECT_EQ(error_code("rule.edit", {{"id", 777}, {"rule", {{"action", "block"}}}}), protocol::kNotFound);
  const auto generation = c.call("service.status")["policy"]["generation"];
  EXPECT_FALSE(c.call("rule.edit", {{"id", rule["id"]}, {"rule", {{"action", "block"}}}})["changed"].get<bool>());
  json dry = c.call("rule.edit", {{"id", rule["id"]}, {"rule", {{"action", "direct"}}}, {"dry_run", true}});
  EXPECT_EQ(dry["rule"]["action"], "direct");
  EXPECT_EQ(c.call("rule.get", {{"id", rule["id"]}})["rule"]["action"], "block") << "a dry run changes nothing";
  EXPECT_EQ(c.call("service.status")["policy"]["generation"], generation);
}

TEST_F(PolicyMethodsTest, QuotaSetKeepsWhatItDoesNotMention) {
  auto c = client();
  c.call("quota.set", {{"app", test::program_path("curl")}, {"rate", {{"down", "1MiB/s"}}}});
  json q = c.call("quota.set", {{"app", test::program_path("curl")}, {"volume", {{"bytes", "10GB"}, {"period", "month"}}}})["quota"];
  EXPECT_EQ(q["rate"]["down"], 1048576);
  EXPECT_EQ(q["volume"]["bytes"], 10000000000ULL);
  q = c.call("quota.set", {{"app", test::program_path("curl")}, {"rate", {{"down", nullptr}}}})["quota"];
  EXPECT_TRUE(q["rate"]["down"].is_null()) << "null removes a limit";
  const json removed = c.call("quota.set", {{"app", test::program_path("curl")}, {"volume", nullptr}});
  EXPECT_TRUE(removed["quota"].is_null()) << "removing the last limit removes the quota: " << removed.dump();
  EXPECT_TRUE(c.call("quota.list")["quotas"].empty());
  c.call("quota.set", {{"app", test::program_path("curl")}, {"rate", {{"up", "1MiB/s"}}}});
  c.call("quota.clear", {{"app", test::program_path("curl")}});
  EXPECT_TRUE(c.call("quota.list")["quotas"].empty());
  EXPECT_EQ(error_code("quota.clear", {{"app", test::program_path("curl")}}), protocol::kNotFound);
}

TEST_F(PolicyMethodsTest, ChangesAreAuditedWithTheCallersIdentity) {
  auto c = client();
  c.call("rule.add", {{"rule", {{"action", "block"}}}});
  json entries = c.call("audit.list", {{"limit", 5}})["entries"];
  ASSERT_EQ(entries.size(), 1u);
  EXPECT_EQ(entries[0]["action"], "rule.add");
  EXPECT_GT(entries[0]["pid"].get<std::int64_t>(), 0) << "the pid the OS reported for the caller";
}

// Usage rows are one per program (and day), and any user can run programs under as
// many long paths as they like: usage.show answers a page at a time, each inside a
// frame, and walking the pages gives every row once.
TEST(UsageShowPagingTest, ManyLongProgramPathsArePagedAndEachPageFitsAFrame) {
  test::TempDir dir;
  const auto state = dir.file("state");
  std::filesystem::create_directories(state);
  constexpr int kPrograms = 600;
  {
    store::Database db((std::filesystem::path(state) / "sluice.db").string());
    store::migrate(db, schema::embedded_migrations());
    std::vector<store::UsageDelta> rows;
    for (int i = 0; i < kPrograms; ++i) {
      rows.push_back({"/tmp/" + std::string(3000, 'p') + "/" + std::to_string(i), "2026-12-01", 1000u + i, 1, 1, 1, 0});
    }
    store::PolicyStore(db).add_usage(rows);
  }
  ServiceConfig config{state, test::unique_endpoint(dir), spdlog::level::warn};
  test::RunningService service(config);
  transport::RpcClient client(config.control_endpoint, 10s, "test");

  const json first = client.call("usage.show", json::object());
  EXPECT_TRUE(first["more"].get<bool>()) << "600 rows of 3 KB are more than a frame";
  EXPECT_LT(first["usage"].size(), static_cast<std::size_t>(kPrograms));
  EXPECT_LT(first.dump().size(), protocol::kMaxFrameBytes);

  const json all = protocol::collect_pages([&](const json& params) { return client.call("usage.show", params); },
                                           json::object(), "usage", "offset");
  ASSERT_EQ(all["usage"].size(), static_cast<std::size_t>(kPrograms));
  std::set<std::string> apps;
  for (const auto& row : all["usage"]) apps.insert(row["app"].get<std::string>());
  EXPECT_EQ(apps.size(), static_cast<std::size_t>(kPrograms)) << "no row twice";
  EXPECT_EQ(all["usage"][0]["bytes_up"], 1000 + kPrograms - 1) << "most bytes first, across pages";

  const json by_day = client.call("usage.show", json{{"by_day", true}, {"limit", 5}, {"offset", 10}});
  ASSERT_EQ(by_day["usage"].size(), 5u);
  EXPECT_EQ(by_day["next_offset"], 15);
}

}  // namespace
}  // namespace sluice::service
