// What scripts rely on from sluicectl, against the real service body: each exit
// status of exit_status.h for the case it names, the same with and without --json;
// errors on stderr alone, in words that never name an RPC method; --json on every
// command, each printing JSON; settings stored normalized and shown typed; and
// `policy export --file` leaving nothing behind when it fails.
// The not-an-administrator case is cli_not_administrator_test.cpp (POSIX: it drops
// to nobody).
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <iostream>
#include <map>
#include <regex>
#include <set>
#include <sstream>

#include <nlohmann/json.hpp>

#include "control/cli/cli.h"
#include "tests/integration/cli_help_listing.h"
#include "tests/support/program_path.h"
#include "tests/support/running_service.h"
#include "tests/support/temp_dir.h"

namespace sluice::cli {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;

struct CliRun {
  int status;
  std::string out, err;
};

using test_listing::words;

// "rule.add", "sluice.hello", "quota.set": a JSON-RPC method name in a message.
bool names_a_method(const std::string& text) {
  static const std::regex method(R"(\b(rule|quota|policy|settings|service|usage|audit|flows|flow|stats|sluice|provider)\.[a-z_]+\b)");
  return std::regex_search(text, method);
}

std::set<std::string> entries(const std::string& directory) {
  std::set<std::string> names;
  for (const auto& e : fs::directory_iterator(directory)) names.insert(e.path().filename().string());
  return names;
}

class CliContractTest : public ::testing::Test {
 protected:
  CliContractTest() : config_{dir_.file("state"), test::unique_endpoint(dir_), spdlog::level::warn}, service_(config_) {}

  CliRun run(std::vector<std::string> args, const std::string& endpoint = "") {
    args.insert(args.begin(), {"--control", endpoint.empty() ? config_.control_endpoint : endpoint, "--timeout", "2000"});
    std::ostringstream out, err;
    const int status = run_cli(args, out, err);
    return {status, out.str(), err.str()};
  }

  // Runs `args` with and without --json (appended): both must exit `status`; a
  // failure says so on stderr alone, without naming a method.
  void expect_status(std::vector<std::string> args, int status, const std::string& said = "", const std::string& endpoint = "") {
    for (bool with_json : {false, true}) {
      auto full = args;
      if (with_json) full.push_back("--json");
      const CliRun r = run(full, endpoint);
      const std::string shown = ::testing::PrintToString(full);
      EXPECT_EQ(r.status, status) << shown << " said: " << r.err << r.out;
      if (status == kExitOk) continue;
      EXPECT_TRUE(r.out.empty()) << shown << " printed on stdout: " << r.out;
      EXPECT_FALSE(r.err.empty()) << shown;
      EXPECT_FALSE(names_a_method(r.err)) << shown << " names a method: " << r.err;
      if (!said.empty()) EXPECT_NE(r.err.find(said), std::string::npos) << shown << " wanted '" << said << "' in: " << r.err;
    }
  }

  test::TempDir dir_;
  service::ServiceConfig config_;
  test::RunningService service_;
};

TEST_F(CliContractTest, EachExitStatusForItsCaseWithAndWithoutJson) {
  std::set<int> seen;
  auto expect = [&](std::vector<std::string> args, int status, const std::string& said = "", const std::string& endpoint = "") {
    seen.insert(status);
    expect_status(std::move(args), status, said, endpoint);
  };
  expect({"status"}, kExitOk);
  expect({"rule", "list"}, kExitOk);

  expect({"rule", "show", "abc"}, kExitUsage, "'abc'");
  expect({"rule", "add", "--action", "allow"}, kExitUsage, "--action");
  expect({"quota", "set", "--app", test::program_path("curl"), "--volume", "lots"}, kExitUsage, "--volume");

  const test::TempDir elsewhere;  // an endpoint nothing listens at
  const std::string nobody_there = test::unique_endpoint(elsewhere);
  expect({"status"}, kExitUnreachable, "is the service running?", nobody_there);
  expect({"rule", "list"}, kExitUnreachable, "cannot reach sluiced at " + nobody_there, nobody_there);

  expect({"rule", "show", "4242"}, kExitNotFound, "no rule with id 4242");
  expect({"rule", "remove", "4242"}, kExitNotFound, "sluicectl rule list");
  expect({"rule", "edit", "4242", "--action", "block"}, kExitNotFound, "4242");
  expect({"rule", "enable", "4242"}, kExitNotFound, "4242");
  expect({"rule", "move", "4242", "--to", "1"}, kExitNotFound, "4242");
  expect({"quota", "clear", "--app", test::program_path("never-limited")}, kExitNotFound, test::program_path("never-limited"));
  expect({"quota", "show", "--app", test::program_path("never-limited")}, kExitNotFound, "no quota for " + test::program_path("never-limited"));
  // Nothing global to show: not found, with --json as without (it was exit 1 on
  // stdout without --json and exit 0 with it).
  expect({"quota", "show", "--global"}, kExitNotFound, "no global quota");

  // This service was started without a configuration file: reloading one fails.
  expect({"service", "reload"}, kExitFailure);

  // The refused case (exit 4) needs another account: cli_not_administrator_test.cpp.
  seen.insert(kExitRefused);
  std::set<int> table;
  for (const auto& row : kExitStatuses) table.insert(row.status);
  EXPECT_EQ(seen, table) << "every exit status of the table has its case here";
}

TEST_F(CliContractTest, TheHelpListsEveryExitStatus) {
  const CliRun help = run({"--help"});
  ASSERT_EQ(help.status, kExitOk);
  for (const auto& row : kExitStatuses) {
    EXPECT_NE(help.out.find("  " + std::to_string(row.status) + "  " + row.meaning), std::string::npos) << row.meaning;
  }
}

// Every command `--help` lists, with arguments under which it prints something.
TEST_F(CliContractTest, EveryCommandPrintsJsonWithJson) {
  ASSERT_EQ(run({"rule", "add", "--action", "relay", "--app", test::program_path("curl")}).status, kExitOk);
  ASSERT_EQ(run({"rule", "add", "--action", "block", "--app", test::program_path("wget")}).status, kExitOk);
  ASSERT_EQ(run({"quota", "set", "--app", test::program_path("curl"), "--rate-up", "1MiB/s"}).status, kExitOk);
  const std::string preload_file = dir_.file("ld.so.preload");
  const std::map<std::string, std::vector<std::string>> cases = {
      {"status", {}},
      {"rule add", {"--action", "direct", "--app", test::program_path("ssh")}},
      {"rule edit", {"1", "--comment", "edited"}},
      {"rule list", {}},
      {"rule show", {"1"}},
      {"rule disable", {"1"}},
      {"rule enable", {"1"}},
      {"rule move", {"1", "--to", "2"}},
      {"rule remove", {"2"}},
      {"quota set", {"--app", test::program_path("curl"), "--volume", "10GB", "--period", "month"}},
      {"quota show", {}},
      {"quota clear", {"--app", test::program_path("curl")}},
      {"usage show", {}},
      {"policy export", {"--file", dir_.file("exported.json")}},
      {"policy import", {"--file", dir_.file("exported.json"), "--dry-run"}},
      {"policy check", {"--app", test::program_path("curl"), "--dst", "192.0.2.1", "--port", "80"}},
      {"settings show", {}},
      {"settings set", {"fail_mode", "open"}},
      {"audit show", {"--limit", "3"}},
      {"flows", {}},
      {"stats", {}},
      {"top", {"--count", "2", "--interval", "1"}},
      {"provider status", {"--preload-file", preload_file}},
      {"provider uninstall", {"--preload-file", preload_file}},
      // Installing changes the machine: never from here. A library that is not there
      // is refused, and the refusal is not on stdout (see below); the arguments are
      // the platform's (chosen below).
      {"provider install", {}},
      {"service reload", {}},
  };
  // Listed by --help: each group's subcommands.
  const std::set<std::string> listed = test_listing::listed_commands(
      [&](std::vector<std::string> args) {
        args.push_back("--help");
        return run(args).out;
      },
      /*groups=*/false);
  std::set<std::string> tabled;
  for (const auto& [command, _] : cases) tabled.insert(command);
  EXPECT_EQ(tabled, listed) << "a command was added or removed: say here how it prints JSON";

  // In this order: export before import, edits before removals.
  const std::vector<std::string> order = {
      "status", "rule add", "rule edit", "rule list", "rule show", "rule disable", "rule enable", "rule move", "quota set",
      "quota show", "policy export", "policy import", "quota clear", "rule remove", "usage show", "policy check",
      "settings show", "settings set", "audit show", "flows", "stats", "top", "provider status", "provider uninstall",
      "provider install", "service reload"};
  ASSERT_EQ(std::set<std::string>(order.begin(), order.end()), tabled);
  int parsed = 0;
  for (const auto& command : order) {
    auto args = words(command);
    const auto& extra = cases.at(command);
    args.insert(args.end(), extra.begin(), extra.end());
    auto help = words(command);
    help.push_back("--help");
    EXPECT_NE(run(help).out.find("--json"), std::string::npos) << command << " --help offers no --json";
    if (command == "provider uninstall" && run(help).out.find("--preload-file") == std::string::npos) {
      args.resize(2);  // Windows: no preload file; uninstalling what is not installed changes nothing
    }
    if (command == "provider status" && run(help).out.find("--preload-file") == std::string::npos) args.resize(2);
    if (command == "provider install") {
      const bool posix = run(help).out.find("--library") != std::string::npos;
      const std::vector<std::string> missing =
          posix ? std::vector<std::string>{"--library", dir_.file("nowhere/libsluice_preload.so"), "--preload-file", preload_file}
                : std::vector<std::string>{"--dll", dir_.file("nowhere\\sluice_lsp.dll")};
      args.insert(args.end(), missing.begin(), missing.end());
    }
    args.push_back("--json");
    const CliRun r = run(args);
    if (command == "provider install" || command == "service reload") {
      // Cannot succeed here (no such library; no configuration file): the failure is
      // on stderr, stdout stays empty, not half a document.
      EXPECT_NE(r.status, kExitOk) << command;
      EXPECT_TRUE(r.out.empty()) << command << ": " << r.out;
      continue;
    }
    EXPECT_EQ(r.status, kExitOk) << ::testing::PrintToString(args) << ": " << r.err;
    // top writes one document per refresh, a line each (JSON Lines).
    std::istringstream lines(r.out);
    std::vector<std::string> documents;
    if (command == "top") {
      for (std::string line; std::getline(lines, line);) documents.push_back(line);
      EXPECT_EQ(documents.size(), 2u) << r.out;
    } else {
      documents.push_back(r.out);
    }
    for (const auto& text : documents) {
      const json parsed_out = json::parse(text, nullptr, /*allow_exceptions=*/false);
      EXPECT_FALSE(parsed_out.is_discarded()) << command << " --json printed: " << text;
      if (!parsed_out.is_discarded()) ++parsed;
    }
  }
  std::cout << "[ figures ] " << tabled.size() << " commands, " << parsed << " JSON documents parsed\n";
}

TEST_F(CliContractTest, SettingsAreStoredNormalizedAndShownTyped) {
  const CliRun set = run({"settings", "set", "default_action", "BLOCK"});
  ASSERT_EQ(set.status, kExitOk) << set.err;
  EXPECT_EQ(set.out, "default_action = block\n");
  ASSERT_EQ(run({"settings", "set", "fail_mode", "Closed"}).status, kExitOk);
  ASSERT_EQ(run({"settings", "set", "provider_timeout_ms", "0300"}).status, kExitOk);

  const json settings = json::parse(run({"settings", "show", "--json"}).out);
  EXPECT_EQ(settings["default_action"], "block") << settings;
  EXPECT_EQ(settings["fail_mode"], "closed") << settings;
  EXPECT_EQ(settings["provider_timeout_ms"], 300) << "a number, not a string: " << settings;
  const json exported = json::parse(run({"policy", "export"}).out);
  EXPECT_EQ(exported["settings"]["provider_timeout_ms"], 300) << exported;
  EXPECT_EQ(exported["settings"]["default_action"], "block") << exported;
  // The audit trail records what is stored, too.
  const json audit = json::parse(run({"audit", "show", "--limit", "3", "--json"}).out);
  EXPECT_EQ(audit[0]["detail"]["value"], "300") << audit;
  // What an import writes is normalized the same way, and the typed spelling of
  // what is already there is no change.
  std::ofstream(dir_.file("typed.json")) << R"({"sluice_policy": 1, "settings": {"default_action": "Block", "fail_mode": "CLOSED", "provider_timeout_ms": 300}})";
  const CliRun again = run({"policy", "import", "--file", dir_.file("typed.json")});
  EXPECT_EQ(again.status, kExitOk) << again.err;
  EXPECT_NE(again.out.find("unchanged"), std::string::npos) << again.out;
  // Still refused: words that are not values.
  EXPECT_EQ(run({"settings", "set", "provider_timeout_ms", "+300"}).status, kExitUsage);
  EXPECT_EQ(run({"settings", "set", "provider_timeout_ms", " 300"}).status, kExitUsage);
}

TEST_F(CliContractTest, AmountsAreShownInTheUnitTyped) {
  const CliRun set = run({"quota", "set", "--app", test::program_path("curl"), "--volume", "10GB", "--period", "month", "--rate-up", "1MB/s",
                          "--rate-down", "800kbit/s", "--burst-down", "1.5MiB"});
  ASSERT_EQ(set.status, kExitOk) << set.err;
  EXPECT_NE(set.out.find("volume 10 GB/month"), std::string::npos) << set.out;
  EXPECT_NE(set.out.find("rate up 1 MB/s"), std::string::npos) << set.out;
  const CliRun shown = run({"quota", "show", "--app", test::program_path("curl")});
  ASSERT_EQ(shown.status, kExitOk) << shown.err;
  for (const char* text : {"10 GB/month", "1 MB/s", "800 kbit/s", "1.5 MiB"}) {
    EXPECT_NE(shown.out.find(text), std::string::npos) << "wanted " << text << " in:\n" << shown.out;
  }
  EXPECT_EQ(shown.out.find("GiB"), std::string::npos) << shown.out;
  // JSON keeps the bytes exact, and says the unit.
  const json quota = json::parse(run({"quota", "show", "--app", test::program_path("curl"), "--json"}).out)[0];
  EXPECT_EQ(quota["volume"]["bytes"], 10'000'000'000ull) << quota;
  EXPECT_EQ(quota["units"]["volume.bytes"], "GB") << quota;
  // A later change of one limit keeps the others' units; removing one drops its unit.
  ASSERT_EQ(run({"quota", "set", "--app", test::program_path("curl"), "--rate-up", "none"}).status, kExitOk);
  const json after = json::parse(run({"quota", "show", "--app", test::program_path("curl"), "--json"}).out)[0];
  EXPECT_FALSE(after["units"].contains("rate.up")) << after;
  EXPECT_EQ(after["units"]["volume.bytes"], "GB") << after;

  // Rules' rates too, through list, show and an export and import of the policy.
  ASSERT_EQ(run({"rule", "add", "--action", "relay", "--app", test::program_path("wget"), "--rate-up", "1MB/s"}).status, kExitOk);
  EXPECT_NE(run({"rule", "show", "1"}).out.find("up 1 MB/s"), std::string::npos) << run({"rule", "show", "1"}).out;
  EXPECT_NE(run({"rule", "list"}).out.find("up 1 MB/s"), std::string::npos);
  const std::string exported = run({"policy", "export"}).out;
  ASSERT_EQ(run({"quota", "clear", "--app", test::program_path("curl")}).status, kExitOk);
  std::ofstream(dir_.file("units.json")) << exported;
  ASSERT_EQ(run({"policy", "import", "--file", dir_.file("units.json"), "--replace"}).status, kExitOk);
  EXPECT_NE(run({"quota", "show"}).out.find("10 GB/month"), std::string::npos) << run({"quota", "show"}).out;

  // A bare number is refused, saying which units there are.
  for (const auto& [flag, value] : std::vector<std::pair<std::string, std::string>>{
           {"--volume", "4096"}, {"--rate-up", "4096"}, {"--burst-up", "4096"}}) {
    const std::string other = flag == "--rate-up" ? "--rate-down" : "--rate-up";
    const CliRun bare = run({"quota", "set", "--app", test::program_path("curl"), other, "1MB/s", flag, value});
    EXPECT_EQ(bare.status, kExitUsage) << flag << ": " << bare.err;
    EXPECT_NE(bare.err.find(flag), std::string::npos) << bare.err;
    EXPECT_NE(bare.err.find("needs a unit"), std::string::npos) << bare.err;
    EXPECT_NE(bare.err.find("MiB"), std::string::npos) << "the accepted units are listed: " << bare.err;
  }
  const CliRun bare_rule = run({"rule", "add", "--action", "relay", "--rate-down", "100"});
  EXPECT_EQ(bare_rule.status, kExitUsage) << bare_rule.err;
  EXPECT_NE(bare_rule.err.find("100B/s"), std::string::npos) << bare_rule.err;
  EXPECT_EQ(run({"quota", "set", "--app", test::program_path("curl"), "--volume", "4096B"}).status, kExitOk);
}

TEST_F(CliContractTest, ExportToADirectoryFailsSayingSoAndLeavesNothing) {
  const std::string target = dir_.file("exports");
  fs::create_directory(target);
  const auto before = entries(dir_.path());
  const CliRun r = run({"policy", "export", "--file", target});
  EXPECT_EQ(r.status, kExitUsage) << r.err;
  EXPECT_NE(r.err.find("is a directory"), std::string::npos) << r.err;
  EXPECT_TRUE(r.out.empty()) << r.out;
  EXPECT_EQ(entries(dir_.path()), before) << "a temporary file was left beside " << target;
  EXPECT_TRUE(entries(target).empty()) << "something was written into " << target;

  // A file in a directory that does not exist: the same, naming it.
  const CliRun missing = run({"policy", "export", "--file", dir_.file("no-such-dir/policy.json")});
  EXPECT_EQ(missing.status, kExitUsage) << missing.err;
  EXPECT_NE(missing.err.find("no-such-dir"), std::string::npos) << missing.err;
  EXPECT_EQ(entries(dir_.path()), before);

  // And a good export leaves the file alone, nothing beside it.
  const CliRun good = run({"policy", "export", "--file", dir_.file("policy-export.json")});
  ASSERT_EQ(good.status, kExitOk) << good.err;
  auto after = entries(dir_.path());
  after.erase("policy-export.json");
  EXPECT_EQ(after, before);
}

}  // namespace
}  // namespace sluice::cli
