#include "service/policy/policy_document.h"

#include <gtest/gtest.h>

#include "service/policy/address.h"

namespace sluice::policy {
namespace {

// The message of the DocumentError that reading `value` throws ("" if none).
template <class F>
std::string problem(F&& read) {
  try {
    read();
  } catch (const DocumentError& e) {
    return e.what();
  }
  return "";
}

TEST(PolicyDocumentTest, ReadsAFullRule) {
  Rule rule = rule_from_json(json::parse(R"({
      "app": "/usr/bin/curl", "user": "alice", "protocol": "tcp", "action": "relay",
      "destinations": ["127.0.0.0/8", "::1"], "ports": ["80", 443, "8000-8100"],
      "rate": {"up": "1.5MiB/s", "down": 1000}, "comment": "demo", "enabled": false})"),
                             "rule");
  EXPECT_EQ(rule.app, "/usr/bin/curl");
  EXPECT_EQ(rule.user, "alice");
  EXPECT_EQ(rule.protocol, Protocol::tcp);
  EXPECT_EQ(rule.action, Action::relay);
  ASSERT_EQ(rule.destinations.size(), 2u);
  EXPECT_EQ(format_cidr(rule.destinations[1]), "::1/128");
  ASSERT_EQ(rule.ports.size(), 3u);
  EXPECT_EQ(rule.ports[2], (PortRange{8000, 8100}));
  EXPECT_EQ(rule.rate.up, 1572864u);
  EXPECT_EQ(rule.rate.down, 1000u);
  EXPECT_FALSE(rule.enabled);
}

TEST(PolicyDocumentTest, DefaultsAreEveryProgramAnyDestination) {
  Rule rule = rule_from_json(json{{"action", "block"}}, "rule");
  EXPECT_EQ(rule.app, "**");
  EXPECT_EQ(rule.protocol, Protocol::any);
  EXPECT_TRUE(rule.destinations.empty());
  EXPECT_TRUE(rule.enabled);
}

TEST(PolicyDocumentTest, RuleProblemsNameThePlaceAndTheValue) {
  auto rule_problem = [](const char* text) { return problem([&] { rule_from_json(json::parse(text), "rules[3]"); }); };
  EXPECT_EQ(rule_problem(R"({"action": "allow"})"), "rules[3].action: 'allow' is not direct, relay or block");
  EXPECT_EQ(rule_problem(R"({})"), "rules[3].action: missing (direct, relay or block)");
  EXPECT_EQ(rule_problem(R"({"action": "block", "destinations": ["10.0.0.0/8", "10.0.0.300/8"]})"),
            "rules[3].destinations[1]: '10.0.0.300/8' is not an IPv4/IPv6 address or CIDR");
  EXPECT_EQ(rule_problem(R"({"action": "block", "ports": ["0"]})"),
            "rules[3].ports[0]: '0' is not a port (1-65535) or a range like 8000-8100");
  EXPECT_EQ(rule_problem(R"({"action": "block", "protocol": "icmp"})"), "rules[3].protocol: 'icmp' is not tcp, udp or any");
  EXPECT_EQ(rule_problem(R"({"action": "block", "app": "curl"})"),
            "rules[3].app: 'curl' is neither a full executable path nor a glob");
  EXPECT_EQ(rule_problem(R"({"action": "block", "enabled": "yes"})"), "rules[3].enabled: expected true or false");
  EXPECT_EQ(rule_problem(R"({"action": "block", "destinations": "10.0.0.0/8"})"),
            "rules[3].destinations: expected a list of addresses or CIDRs");
  EXPECT_EQ(rule_problem(R"({"action": "block", "colour": "red"})"), "rules[3].colour: unknown field");
  EXPECT_NE(rule_problem(R"({"action": "block", "rate": {"up": "fast"}})").find("rules[3].rate.up: 'fast'"), std::string::npos);
  EXPECT_EQ(rule_problem(R"({"action": "block", "rate": {"up": 0}})"), "rules[3].rate.up: must be greater than 0");
}

TEST(PolicyDocumentTest, WindowsPathsAndGlobsAreApplications) {
  EXPECT_EQ(rule_from_json(json{{"action", "block"}, {"app", "C:\\Program Files\\x.exe"}}, "r").app, "C:\\Program Files\\x.exe");
  EXPECT_EQ(rule_from_json(json{{"action", "block"}, {"app", "/usr/bin/*"}}, "r").app, "/usr/bin/*");
}

TEST(PolicyDocumentTest, QuotasNeedATargetAndALimit) {
  Quota q = quota_from_json(json::parse(R"({"app": "/usr/bin/curl", "rate": {"down": "1MiB/s"},
      "volume": {"bytes": "10GB", "period": "month", "on_exceed": "throttle", "throttle_rate": "64KiB/s"}})"),
                            "q");
  EXPECT_EQ(q.rate.down, 1048576u);
  EXPECT_EQ(q.volume_bytes, 10'000'000'000u);
  EXPECT_EQ(q.volume_period, VolumePeriod::month);
  EXPECT_EQ(q.on_exceed, OnExceed::throttle);
  EXPECT_EQ(q.throttle_rate, 65536u);
  EXPECT_TRUE(quota_from_json(json::parse(R"({"global": true, "rate": {"up": 100}})"), "q").global);

  auto quota_problem = [](const char* text) { return problem([&] { quota_from_json(json::parse(text), "quotas[0]"); }); };
  EXPECT_NE(quota_problem(R"({"rate": {"up": 1}})").find("either an \"app\""), std::string::npos);
  EXPECT_NE(quota_problem(R"({"app": "/bin/x", "global": true, "rate": {"up": 1}})").find("either"), std::string::npos);
  EXPECT_EQ(quota_problem(R"({"app": "/bin/x"})"), "quotas[0]: the quota sets no limit (give a rate or a volume)");
  EXPECT_EQ(quota_problem(R"({"app": "/bin/x", "volume": {"bytes": 5, "on_exceed": "throttle"}})"),
            "quotas[0].volume.throttle_rate: missing: throttle needs the rate to throttle to");
  EXPECT_EQ(quota_problem(R"({"app": "/bin/x", "volume": {"bytes": 5, "period": "year"}})"),
            "quotas[0].volume.period: 'year' is not day, week or month");
  EXPECT_EQ(quota_problem(R"({"app": "/bin/*", "rate": {"up": 1}})"),
            "quotas[0].app: quotas apply to one program: give its full path, not a glob");
  EXPECT_EQ(quota_problem(R"({"app": "/bin/x", "burst": {"up": 5}, "rate": {"down": 1}})"),
            "quotas[0].burst: a burst needs a rate in the same direction");
}

TEST(PolicyDocumentTest, DocumentsRoundTrip) {
  PolicyDocument document;
  document.settings = {{"default_action", "block"}, {"fail_mode", "closed"}};
  document.rules.push_back(rule_from_json(json::parse(R"({"app": "/usr/bin/curl", "action": "relay", "destinations": ["::1"]})"), "r"));
  document.rules.push_back(rule_from_json(json::parse(R"({"action": "block", "ports": ["25"], "comment": "no mail"})"), "r"));
  document.quotas.push_back(quota_from_json(json::parse(R"({"global": true, "rate": {"up": 5000}})"), "q"));
  const json text = document_to_json(document);
  EXPECT_EQ(text["sluice_policy"], kDocumentVersion);
  EXPECT_FALSE(text["rules"][0].contains("id")) << "ids belong to one database";
  PolicyDocument back = document_from_json(text);
  EXPECT_EQ(back.settings, document.settings);
  ASSERT_EQ(back.rules.size(), 2u);
  EXPECT_EQ(back.rules[0].app, "/usr/bin/curl");
  EXPECT_EQ(back.rules[1].comment, "no mail");
  EXPECT_EQ(back.quotas, document.quotas);
}

TEST(PolicyDocumentTest, DocumentProblems) {
  auto document_problem = [](const char* text) { return problem([&] { document_from_json(json::parse(text)); }); };
  EXPECT_NE(document_problem(R"({"rules": []})").find("not a Sluice policy document"), std::string::npos);
  EXPECT_NE(document_problem(R"({"sluice_policy": 2})").find("version 2 is not supported"), std::string::npos);
  // 2^32 + 1 and 2^64 - 1 are not version 1, whatever their low 32 bits say.
  EXPECT_NE(document_problem(R"({"sluice_policy": 4294967297})").find("version 4294967297 is not supported"), std::string::npos);
  EXPECT_NE(document_problem(R"({"sluice_policy": 18446744073709551615})").find("is not supported"), std::string::npos);
  EXPECT_EQ(document_problem(R"({"sluice_policy": 1, "settings": {"default_action": "maybe"}})"),
            "settings.default_action: 'maybe' is not direct, relay or block");
  EXPECT_NE(document_problem(R"({"sluice_policy": 1, "settings": {"colour": "red"}})").find("settings.colour: unknown setting"),
            std::string::npos);
  EXPECT_EQ(document_problem(R"({"sluice_policy": 1, "rules": [{"action": "block"}, {"action": 7}]})"),
            "rules[1].action: expected a string, got number");
  EXPECT_EQ(document_problem(R"({"sluice_policy": 1, "quotas": [{"global": true, "rate": {"up": 1}}, {"global": true, "rate": {"up": 2}}]})"),
            "quotas[1]: a second global quota");
}

TEST(PolicyDocumentTest, Settings) {
  EXPECT_NO_THROW(validate_setting("provider_timeout_ms", "250", ""));
  EXPECT_THROW(validate_setting("provider_timeout_ms", "0", ""), DocumentError);
  EXPECT_THROW(validate_setting("provider_timeout_ms", "25x", ""), DocumentError);
  EXPECT_THROW(validate_setting("fail_mode", "ajar", ""), DocumentError);
  EXPECT_THROW(validate_setting("instance_id", "x", ""), DocumentError) << "not an administrator's setting";
}

}  // namespace
}  // namespace sluice::policy
