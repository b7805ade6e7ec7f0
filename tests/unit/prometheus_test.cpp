// The Prometheus text of stats.get and service.status results: exact text, label
// escaping, the grammar of every line, and the naming conventions.
#include "control/protocol/prometheus.h"

#include <gtest/gtest.h>

#include <map>
#include <sstream>

#include "tests/support/exposition_checker.h"

namespace sluice::protocol {
namespace {

using json = nlohmann::json;

json app(const std::string& name) {
  return json{{"app", name},
              {"flows_active", 1},
              {"flows_total", 4},
              {"decided", {{"direct", 2}, {"relay", 4}, {"block", 1}}},
              {"bytes_up", 100},
              {"bytes_down", 2000},
              {"dropped", 0},
              {"rate_up", 10},
              {"rate_down", 200},
              {"over_volume", false}};
}

json stats_with(json apps) {
  return json{{"relay_available", true},
              {"totals",
               {{"flows_active", 1}, {"bytes_up", 100}, {"bytes_down", 2000}, {"dropped", 0}, {"rate_up", 10}, {"rate_down", 200}}},
              {"engine",
               {{"tcp_accepted", 3}, {"tcp_unexpected", 0}, {"tcp_connect_failures", 1}, {"tcp_idle_closed", 4}, {"udp_associations", 2},
                {"udp_dropped", 5}, {"flows_active", 1}}},
              {"apps", std::move(apps)}};
}

json status_json() {
  return json{{"service", "sluiced"},
              {"version", "0.6.0"},
              {"platform", "linux"},
              {"uptime_seconds", 42},
              {"policy", {{"generation", 7}, {"rules", 3}, {"quotas", 1}, {"default_action", "direct"}}},
              {"control",
               {{"endpoint", "/run/sluice/control.sock"},
                {"clients_connected", 1},
                {"clients_accepted", 10},
                {"clients_refused", 0},
                {"requests", 25},
                {"protocol_errors", 0}}}};
}

const char* const kTotalsText =
    "# HELP sluice_relay_available 1 while the relay engine runs; 0 when relay verdicts fail.\n"
    "# TYPE sluice_relay_available gauge\n"
    "sluice_relay_available 1\n"
    "# HELP sluice_flows_active Relayed flows not finished yet.\n"
    "# TYPE sluice_flows_active gauge\n"
    "sluice_flows_active 1\n"
    "# HELP sluice_relayed_bytes_total Bytes relayed since sluiced started; up: from programs to destinations, down: back.\n"
    "# TYPE sluice_relayed_bytes_total counter\n"
    "sluice_relayed_bytes_total{direction=\"up\"} 100\n"
    "sluice_relayed_bytes_total{direction=\"down\"} 2000\n"
    "# HELP sluice_relay_rate_bytes_per_second Current relay rate of all programs together.\n"
    "# TYPE sluice_relay_rate_bytes_per_second gauge\n"
    "sluice_relay_rate_bytes_per_second{direction=\"up\"} 10\n"
    "sluice_relay_rate_bytes_per_second{direction=\"down\"} 200\n"
    "# HELP sluice_dropped_datagrams_total UDP datagrams of relayed flows dropped over budget or queue.\n"
    "# TYPE sluice_dropped_datagrams_total counter\n"
    "sluice_dropped_datagrams_total 0\n"
    "# HELP sluice_relay_tcp_accepted_total TCP connections the relay accepted.\n"
    "# TYPE sluice_relay_tcp_accepted_total counter\n"
    "sluice_relay_tcp_accepted_total 3\n"
    "# HELP sluice_relay_tcp_unexpected_total TCP connections the relay reset because no flow expected them.\n"
    "# TYPE sluice_relay_tcp_unexpected_total counter\n"
    "sluice_relay_tcp_unexpected_total 0\n"
    "# HELP sluice_relay_tcp_connect_failures_total Relayed TCP destinations that refused or were unreachable.\n"
    "# TYPE sluice_relay_tcp_connect_failures_total counter\n"
    "sluice_relay_tcp_connect_failures_total 1\n"
    "# HELP sluice_relay_tcp_idle_closed_total Relayed TCP connections reset after relay-tcp-idle-timeout without traffic.\n"
    "# TYPE sluice_relay_tcp_idle_closed_total counter\n"
    "sluice_relay_tcp_idle_closed_total 4\n"
    "# HELP sluice_relay_udp_associations_total UDP associations the relay opened.\n"
    "# TYPE sluice_relay_udp_associations_total counter\n"
    "sluice_relay_udp_associations_total 2\n"
    "# HELP sluice_relay_udp_dropped_datagrams_total UDP datagrams the relay engine dropped over budget or queue.\n"
    "# TYPE sluice_relay_udp_dropped_datagrams_total counter\n"
    "sluice_relay_udp_dropped_datagrams_total 5\n"
    "# HELP sluice_relay_volume_closed_total Relayed flows ended because their program reached a volume cap that blocks.\n"
    "# TYPE sluice_relay_volume_closed_total counter\n"
    "sluice_relay_volume_closed_total 0\n"
    "# HELP sluice_relay_flows_active Flows the relay engine holds open.\n"
    "# TYPE sluice_relay_flows_active gauge\n"
    "sluice_relay_flows_active 1\n";

TEST(PrometheusTest, ExactTextForOneProgram) {
  const std::string expected = std::string(kTotalsText) +
      "# HELP sluice_app_flows_active Relayed flows of the program not finished yet.\n"
      "# TYPE sluice_app_flows_active gauge\n"
      "sluice_app_flows_active{app=\"/usr/bin/curl\"} 1\n"
      "# HELP sluice_app_flows_total Relayed flows the program opened.\n"
      "# TYPE sluice_app_flows_total counter\n"
      "sluice_app_flows_total{app=\"/usr/bin/curl\"} 4\n"
      "# HELP sluice_app_flows_decided_total Flows of the program decided, by verdict.\n"
      "# TYPE sluice_app_flows_decided_total counter\n"
      "sluice_app_flows_decided_total{app=\"/usr/bin/curl\",verdict=\"direct\"} 2\n"
      "sluice_app_flows_decided_total{app=\"/usr/bin/curl\",verdict=\"relay\"} 4\n"
      "sluice_app_flows_decided_total{app=\"/usr/bin/curl\",verdict=\"block\"} 1\n"
      "# HELP sluice_app_relayed_bytes_total Bytes relayed for the program, by direction.\n"
      "# TYPE sluice_app_relayed_bytes_total counter\n"
      "sluice_app_relayed_bytes_total{app=\"/usr/bin/curl\",direction=\"up\"} 100\n"
      "sluice_app_relayed_bytes_total{app=\"/usr/bin/curl\",direction=\"down\"} 2000\n"
      "# HELP sluice_app_rate_bytes_per_second Current relay rate of the program, by direction.\n"
      "# TYPE sluice_app_rate_bytes_per_second gauge\n"
      "sluice_app_rate_bytes_per_second{app=\"/usr/bin/curl\",direction=\"up\"} 10\n"
      "sluice_app_rate_bytes_per_second{app=\"/usr/bin/curl\",direction=\"down\"} 200\n"
      "# HELP sluice_app_dropped_datagrams_total UDP datagrams of the program dropped over budget or queue.\n"
      "# TYPE sluice_app_dropped_datagrams_total counter\n"
      "sluice_app_dropped_datagrams_total{app=\"/usr/bin/curl\"} 0\n"
      "# HELP sluice_app_over_volume_cap 1 when the program has reached a volume cap.\n"
      "# TYPE sluice_app_over_volume_cap gauge\n"
      "sluice_app_over_volume_cap{app=\"/usr/bin/curl\"} 0\n";
  EXPECT_EQ(prometheus_text(stats_with(json::array({app("/usr/bin/curl")}))), expected);
}

TEST(PrometheusTest, StatusAddsServiceFamiliesFirst) {
  const std::string expected_status =
      "# HELP sluice_info Constant 1, labelled with the version and platform of sluiced.\n"
      "# TYPE sluice_info gauge\n"
      "sluice_info{version=\"0.6.0\",platform=\"linux\"} 1\n"
      "# HELP sluice_uptime_seconds Seconds since sluiced started.\n"
      "# TYPE sluice_uptime_seconds gauge\n"
      "sluice_uptime_seconds 42\n"
      "# HELP sluice_policy_generation Generation of the policy in force; it grows with every change.\n"
      "# TYPE sluice_policy_generation gauge\n"
      "sluice_policy_generation 7\n"
      "# HELP sluice_policy_rules Rules in the policy in force.\n"
      "# TYPE sluice_policy_rules gauge\n"
      "sluice_policy_rules 3\n"
      "# HELP sluice_policy_quotas Quotas in the policy in force, the global one included.\n"
      "# TYPE sluice_policy_quotas gauge\n"
      "sluice_policy_quotas 1\n"
      "# HELP sluice_control_clients_connected Control-plane clients connected now.\n"
      "# TYPE sluice_control_clients_connected gauge\n"
      "sluice_control_clients_connected 1\n"
      "# HELP sluice_control_clients_accepted_total Control-plane connections accepted.\n"
      "# TYPE sluice_control_clients_accepted_total counter\n"
      "sluice_control_clients_accepted_total 10\n"
      "# HELP sluice_control_clients_refused_total Control-plane connections refused (too many clients).\n"
      "# TYPE sluice_control_clients_refused_total counter\n"
      "sluice_control_clients_refused_total 0\n"
      "# HELP sluice_control_requests_total Control-plane requests handled.\n"
      "# TYPE sluice_control_requests_total counter\n"
      "sluice_control_requests_total 25\n"
      "# HELP sluice_control_protocol_errors_total Control-plane connections dropped for a malformed frame.\n"
      "# TYPE sluice_control_protocol_errors_total counter\n"
      "sluice_control_protocol_errors_total 0\n";
  const json stats = stats_with(json::array());
  EXPECT_EQ(prometheus_text(stats, status_json()), expected_status + kTotalsText);
}

TEST(PrometheusTest, WithoutPolicyOrControlCountersThoseFamiliesAreLeftOut) {
  json status = status_json();
  status["policy"] = nullptr;
  status["control"] = json{{"endpoint", ""}};
  const std::string text = prometheus_text(stats_with(json::array()), status);
  EXPECT_NE(text.find("sluice_uptime_seconds 42\n"), std::string::npos);
  EXPECT_EQ(text.find("sluice_policy_"), std::string::npos);
  EXPECT_EQ(text.find("sluice_control_"), std::string::npos);
  EXPECT_TRUE(test::exposition_problems(text).empty());
}

TEST(PrometheusTest, LabelValuesEscapeBackslashQuoteAndLineFeed) {
  EXPECT_EQ(prometheus_label_value(R"(C:\Program Files\Say "hi"\app.exe)"), R"(C:\\Program Files\\Say \"hi\"\\app.exe)");
  EXPECT_EQ(prometheus_label_value("two\nlines"), "two\\nlines");
  EXPECT_EQ(prometheus_label_value("/usr/bin/curl"), "/usr/bin/curl");
  EXPECT_EQ(prometheus_label_value(""), "");

  const std::string text = prometheus_text(stats_with(json::array({app(R"(C:\Tools\a"b.exe)")})));
  EXPECT_NE(text.find(R"(sluice_app_flows_total{app="C:\\Tools\\a\"b.exe"} 4)"), std::string::npos) << text;
  EXPECT_TRUE(test::exposition_problems(text).empty());
}

TEST(PrometheusTest, NoProgramsLeavesThePerProgramFamiliesOut) {
  const std::string text = prometheus_text(stats_with(json::array()));
  EXPECT_EQ(text, kTotalsText);
  EXPECT_EQ(text.find("sluice_app_"), std::string::npos);
}

TEST(PrometheusTest, EveryLineFollowsTheExpositionGrammar) {
  json apps = json::array({app("/usr/bin/curl"), app(R"(C:\Program Files\Odd "name"\x.exe)"), app("line\nfeed"), app("")});
  apps[1]["over_volume"] = true;
  apps[2]["bytes_up"] = 18446744073709551615ull;  // the largest counter the service can report
  const std::string text = prometheus_text(stats_with(apps), status_json());
  const auto problems = test::exposition_problems(text);
  EXPECT_TRUE(problems.empty()) << ::testing::PrintToString(problems) << "\n" << text;
}

// Prometheus' naming conventions: one prefix, HELP and TYPE for every family,
// counters end in _total and only counters do.
TEST(PrometheusTest, NamesFollowPrometheusConventions) {
  const std::string text = prometheus_text(stats_with(json::array({app("/bin/app")})), status_json());
  std::map<std::string, std::string> types;
  std::map<std::string, int> helps;
  std::istringstream lines(text);
  for (std::string line; std::getline(lines, line);) {
    std::istringstream words(line);
    std::string hash, keyword, name, type;
    words >> hash >> keyword >> name >> type;
    if (hash != "#") continue;
    if (keyword == "TYPE") types[name] = type;
    if (keyword == "HELP") ++helps[name];
  }
  ASSERT_FALSE(types.empty());
  for (const auto& [name, type] : types) {
    EXPECT_EQ(name.rfind("sluice_", 0), 0u) << name;
    EXPECT_EQ(helps[name], 1) << name;
    const bool total = name.size() > 6 && name.compare(name.size() - 6, 6, "_total") == 0;
    EXPECT_EQ(total, type == "counter") << name << " is a " << type;
  }
  EXPECT_EQ(helps.size(), types.size());
}

TEST(PrometheusTest, MissingFieldOrNonNumberIsAnError) {
  json stats = stats_with(json::array());
  stats["totals"].erase("bytes_up");
  EXPECT_THROW(prometheus_text(stats), json::exception);
  json odd = stats_with(json::array());
  odd["engine"]["tcp_accepted"] = "three";
  EXPECT_THROW(prometheus_text(odd), std::invalid_argument);
}

// The checker above must itself catch what a Prometheus server would refuse.
TEST(PrometheusTest, CheckerRejectsMalformedExpositions) {
  const char* const bad[] = {
      "a 1",                                              // no final line feed
      "a{l=\"x\"y\"} 1\n",                                // unescaped quote
      "a{l=\"C:\\Tools\"} 1\n",                           // \T is no escape
      "a{l=\"x\",l=\"y\"} 1\n",                           // label twice
      "a{1l=\"x\"} 1\n",                                  // label name starts with a digit
      "a one\n",                                          // not a float
      "a 1 12.5\n",                                       // timestamp not an integer
      "9a 1\n",                                           // metric name starts with a digit
      "a 1\nb 1\na 2\n",                                  // family split
      "a 1\n# TYPE a gauge\n",                            // TYPE after samples
      "# TYPE a gauge\n# TYPE a gauge\na 1\n",            // TYPE twice
      "# TYPE a meter\na 1\n",                            // unknown type
      "# HELP a bad \\escape\na 1\n",                     // HELP escape
      "a{l=\"x\"} 1\na{l=\"x\"} 2\n",                     // series twice
  };
  for (const char* text : bad) EXPECT_FALSE(test::exposition_problems(text).empty()) << text;
  EXPECT_TRUE(test::exposition_problems("# HELP a x\\\\y\\n\n# TYPE a counter\na{l=\"\\\\\\\"\\n\",} 1 -5\nb NaN\nc +Inf\n")
                  .empty());
}

}  // namespace
}  // namespace sluice::protocol
