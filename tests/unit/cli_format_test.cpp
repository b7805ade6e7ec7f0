#include "control/cli/format.h"

#include <gtest/gtest.h>

namespace sluice::cli {
namespace {

TEST(FormatDurationTest, UsesTheTwoLargestUnits) {
  EXPECT_EQ(format_duration(0), "0s");
  EXPECT_EQ(format_duration(59), "59s");
  EXPECT_EQ(format_duration(125), "2m 05s");
  EXPECT_EQ(format_duration(3 * 3600 + 120 + 7), "3h 02m");
  EXPECT_EQ(format_duration(4 * 86400 + 3 * 3600), "4d 03h");
  EXPECT_EQ(format_duration(-5), "0s");
}

TEST(FormatStatusTest, ShowsWhatAnAdministratorLooksFor) {
  const auto status = nlohmann::json::parse(R"({
    "version": "9.9.9", "pid": 4242, "uptime_seconds": 125, "started_at": "2026-01-01T00:00:00Z",
    "platform": "linux", "state_dir": "/var/lib/sluice",
    "control": {"endpoint": "/run/sluice/control.sock", "clients_connected": 1, "requests": 12, "protocol_errors": 3},
    "database": {"path": "/var/lib/sluice/sluice.db", "schema_level": 1},
    "caller": {"account": "alice", "administrator": false}})");
  const std::string text = format_status(status);
  for (const char* expected : {"sluiced 9.9.9 is running", "4242", "2m 05s", "/run/sluice/control.sock",
                               "3 protocol errors", "/var/lib/sluice/sluice.db (schema level 1)", "alice (read-only)"}) {
    EXPECT_NE(text.find(expected), std::string::npos) << "missing '" << expected << "' in:\n" << text;
  }
}

TEST(FormatStatusTest, ShowsTheRelayTcpIdleTimeoutWithTheFlowLimits) {
  auto status = nlohmann::json::parse(R"({
    "version": "9.9.9", "pid": 1, "uptime_seconds": 1, "started_at": "2026-01-01T00:00:00Z", "platform": "linux", "state_dir": "/s",
    "control": {"endpoint": "/c"}, "database": {"path": "/d", "schema_level": 1},
    "flow_limits": {"max-relayed-flows-per-user": 2048, "relay-tcp-idle-timeout": 600}})");
  EXPECT_NE(format_status(status).find("relay-tcp-idle-timeout = 600\n"), std::string::npos)
      << format_status(status);
  status["flow_limits"]["relay-tcp-idle-timeout"] = 0;
  EXPECT_NE(format_status(status).find("relay-tcp-idle-timeout = 0 (off)"), std::string::npos) << format_status(status);
}

}  // namespace
}  // namespace sluice::cli
