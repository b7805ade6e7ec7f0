// sluicectl's command line and errors, driven through run_cli() without a service.
#include "control/cli/cli.h"

#include <gtest/gtest.h>

#include <regex>
#include <set>
#include <sstream>

#include "tests/support/shipped_file.h"
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

// One table, in exit_status.h: the help prints it, and the README's copy must say the same.
TEST(CliTest, TheReadmeExitStatusTableIsTheCodes) {
  const auto readme = test::shipped_file_text("README.md");
  ASSERT_TRUE(readme.has_value());
  const std::string text(*readme);
  const auto start = text.find("<!-- exit-statuses:");
  ASSERT_NE(start, std::string::npos) << "the README's exit-status table is marked by its comment";
  std::set<std::pair<int, std::string>> in_readme, in_code;
  std::istringstream lines(text.substr(start));
  std::string line;
  std::getline(lines, line);
  const std::regex row(R"(^\| (\d+) \| (.*) \|$)");
  while (std::getline(lines, line) && line.starts_with("|")) {
    std::smatch m;
    if (std::regex_match(line, m, row)) in_readme.insert({std::stoi(m[1]), m[2]});
  }
  for (const auto& r : kExitStatuses) in_code.insert({r.status, r.meaning});
  EXPECT_EQ(in_readme, in_code);
  const std::string help = run({"--help"}).out;
  for (const auto& r : kExitStatuses) EXPECT_NE(help.find(r.meaning), std::string::npos) << r.meaning;
}

TEST(CliTest, AnUnreachableServiceIsOneLineNamingWhereItLooked) {
  test::TempDir dir;
  const std::string endpoint = test::unique_endpoint(dir);
  CliRun r = run({"--control", endpoint, "--timeout", "500", "status"});
  EXPECT_EQ(r.status, kExitUnreachable);
  EXPECT_NE(r.err.find("cannot reach sluiced at " + endpoint), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("is the service running?"), std::string::npos) << r.err;
  EXPECT_EQ(std::count(r.err.begin(), r.err.end(), '\n'), 1) << r.err;
  EXPECT_TRUE(r.out.empty());
}

}  // namespace
}  // namespace sluice::cli
