// sluicectl's command line and errors, driven through run_cli() without a service.
#include "control/cli/cli.h"

#include <gtest/gtest.h>

#include <sstream>

#include "tests/support/temp_dir.h"

namespace sluice::cli {
namespace {

struct CliRun {
  int status;
  std::string out, err;
};

CliRun run(const std::vector<std::string>& args) {
  std::ostringstream out, err;
  int status = run_cli(args, out, err);
  return {status, out.str(), err.str()};
}

TEST(CliTest, HelpListsCommandsAndExitStatuses) {
  CliRun r = run({"--help"});
  EXPECT_EQ(r.status, kExitOk);
  EXPECT_NE(r.out.find("status"), std::string::npos);
  EXPECT_NE(r.out.find("--control"), std::string::npos);
  EXPECT_NE(r.out.find("Exit status"), std::string::npos);
  EXPECT_EQ(run({"status", "--help"}).status, kExitOk);
  EXPECT_NE(run({"--version"}).out.find("sluicectl "), std::string::npos);
}

TEST(CliTest, BadUsageExitsTwoAndNamesTheProblem) {
  CliRun none = run({});
  EXPECT_EQ(none.status, kExitUsage);
  EXPECT_NE(none.err.find("no command"), std::string::npos);

  CliRun unknown = run({"frobnicate"});
  EXPECT_EQ(unknown.status, kExitUsage);
  EXPECT_NE(unknown.err.find("'frobnicate'"), std::string::npos);

  CliRun bad_option = run({"status", "--colour"});
  EXPECT_EQ(bad_option.status, kExitUsage);
  EXPECT_NE(bad_option.err.find("colour"), std::string::npos);

  CliRun bad_timeout = run({"--timeout", "0", "status"});
  EXPECT_EQ(bad_timeout.status, kExitUsage);
  EXPECT_NE(bad_timeout.err.find("--timeout"), std::string::npos);

  EXPECT_EQ(run({"--timeout", "soon", "status"}).status, kExitUsage);
  EXPECT_EQ(run({"--control"}).status, kExitUsage);
}

TEST(CliTest, StatsFormatMustBeOneOfTheThree) {
  CliRun bad = run({"stats", "--format", "xml"});
  EXPECT_EQ(bad.status, kExitUsage);
  EXPECT_NE(bad.err.find("'xml'"), std::string::npos) << bad.err;
  EXPECT_NE(bad.err.find("text, json or prometheus"), std::string::npos) << bad.err;

  CliRun clash = run({"stats", "--json", "--format", "prometheus"});
  EXPECT_EQ(clash.status, kExitUsage);
  EXPECT_NE(clash.err.find("--json"), std::string::npos) << clash.err;

  CliRun help = run({"stats", "--help"});
  EXPECT_EQ(help.status, kExitOk);
  EXPECT_NE(help.out.find("prometheus"), std::string::npos) << help.out;
}

TEST(CliTest, AnUnreachableServiceIsOneLineNamingWhereItLooked) {
  test::TempDir dir;
  const std::string endpoint = test::unique_endpoint(dir);
  CliRun r = run({"--control", endpoint, "--timeout", "500", "status"});
  EXPECT_EQ(r.status, kExitFailure);
  EXPECT_NE(r.err.find("cannot reach sluiced at " + endpoint), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("is the service running?"), std::string::npos) << r.err;
  EXPECT_EQ(std::count(r.err.begin(), r.err.end(), '\n'), 1) << r.err;
  EXPECT_TRUE(r.out.empty());
}

}  // namespace
}  // namespace sluice::cli
