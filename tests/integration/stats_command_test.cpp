// `sluicectl stats --format ...` against the real service body: each format prints
// what stats.get says, and the Prometheus one is valid exposition text.
#include <gtest/gtest.h>

#include <sstream>

#include "control/cli/cli.h"
#include "tests/support/exposition_checker.h"
#include "tests/support/running_service.h"
#include "tests/support/temp_dir.h"

namespace sluice::cli {
namespace {

struct CliRun {
  int status;
  std::string out, err;
};

class StatsCommandTest : public ::testing::Test {
 protected:
  StatsCommandTest() : config_{dir_.file("state"), test::unique_endpoint(dir_), spdlog::level::warn}, service_(config_) {}

  CliRun run(std::vector<std::string> args) {
    args.insert(args.begin(), {"--control", config_.control_endpoint});
    std::ostringstream out, err;
    const int status = run_cli(args, out, err);
    return {status, out.str(), err.str()};
  }

  test::TempDir dir_;
  service::ServiceConfig config_;
  test::RunningService service_;
};

TEST_F(StatsCommandTest, PrometheusFormatIsValidExpositionOfTheServicesNumbers) {
  const CliRun r = run({"stats", "--format", "prometheus"});
  ASSERT_EQ(r.status, kExitOk) << r.err;
  const auto problems = test::exposition_problems(r.out);
  EXPECT_TRUE(problems.empty()) << ::testing::PrintToString(problems) << "\n" << r.out;
  EXPECT_NE(r.out.find("# TYPE sluice_relayed_bytes_total counter\n"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("sluice_policy_rules 0\n"), std::string::npos) << "service.status is included:\n" << r.out;
  EXPECT_NE(r.out.find("sluice_info{version=\""), std::string::npos) << r.out;
}

TEST_F(StatsCommandTest, JsonFormatAndItsAliasPrintTheSameDocument) {
  const CliRun format = run({"stats", "--format", "json"});
  const CliRun alias = run({"stats", "--json"});
  ASSERT_EQ(format.status, kExitOk) << format.err;
  ASSERT_EQ(alias.status, kExitOk) << alias.err;
  const auto a = nlohmann::json::parse(format.out), b = nlohmann::json::parse(alias.out);
  EXPECT_TRUE(a.contains("totals") && a.contains("apps"));
  EXPECT_EQ(a["engine"], b["engine"]);
  EXPECT_EQ(run({"stats", "--json", "--format", "json"}).status, kExitOk);
}

TEST_F(StatsCommandTest, TextIsTheDefault) {
  const CliRun r = run({"stats"});
  ASSERT_EQ(r.status, kExitOk) << r.err;
  EXPECT_EQ(r.out.rfind("Relay:", 0), 0u) << r.out;
  EXPECT_EQ(run({"stats", "--format", "text"}).out, r.out);
}

}  // namespace
}  // namespace sluice::cli
