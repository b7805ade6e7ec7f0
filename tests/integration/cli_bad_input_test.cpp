// Every sluicectl command and subcommand with bad arguments, against the real
// service body: exit status 2 and a message naming the offending option or value.
// Some arguments can only be judged by sluiced (a well-formed rule id that does not
// exist, a quota that is not there): those are "not found", exit 5, by design; they
// are listed separately at the end so the line between the two stays where it is.
#include <gtest/gtest.h>

#include <map>
#include <set>
#include <sstream>

#include "control/cli/cli.h"
#include "tests/integration/cli_help_listing.h"
#include "tests/support/program_path.h"
#include "tests/support/running_service.h"
#include "tests/support/temp_dir.h"

namespace sluice::cli {
namespace {

struct CliRun {
  int status;
  std::string out, err;
};

struct BadUsage {
  const char* command;  // the command or "group subcommand" it exercises
  std::vector<std::string> args;
  std::vector<std::string> names;  // what stderr must mention
  // Tried only where the command offers this option: the provider commands differ
  // by platform (--library and --preload-file on Linux, --dll on Windows).
  const char* only_if_offered = nullptr;
};

// Per command: an unknown option, extra words, missing arguments, values of the
// wrong kind. "--bogus" and "stray" are tried on every one separately below.
const std::vector<BadUsage>& bad_usages() {
  static const std::vector<BadUsage> cases = {
      {"status", {"status", "--json=yes"}, {"json"}},
      {"rule add", {"rule", "add"}, {"--action"}},
      {"rule add", {"rule", "add", "--action"}, {"--action"}},
      {"rule add", {"rule", "add", "--action", "allow"}, {"--action", "'allow'"}},
      {"rule add", {"rule", "add", "--action", "block", "--position", "abc"}, {"--position", "'abc'"}},
      {"rule add", {"rule", "add", "--action", "block", "--position", "0"}, {"--position", "'0'"}},
      {"rule add", {"rule", "add", "--action", "block", "--position", "99999999999999999999"}, {"--position"}},
      {"rule add", {"rule", "add", "--action", "relay", "--rate-down", "fast"}, {"--rate-down", "'fast'"}},
      {"rule add", {"rule", "add", "--action", "relay", "--rate-up", "-5MiB/s"}, {"--rate-up"}},
      {"rule add", {"rule", "add", "--action", "block", "--port", "70000"}, {"--port", "'70000'"}},
      {"rule add", {"rule", "add", "--action", "block", "--port", "90-80"}, {"--port", "'90-80'"}},
      {"rule add", {"rule", "add", "--action", "block", "--dst", "10.0.0.300/8"}, {"--dst", "'10.0.0.300/8'"}},
      {"rule add", {"rule", "add", "--action", "block", "--dst", "10.0.0.0/33"}, {"--dst", "'10.0.0.0/33'"}},
      {"rule add", {"rule", "add", "--action", "block", "--proto", "icmp"}, {"--proto", "'icmp'"}},
      {"rule add", {"rule", "add", "--action", "block", "--app", "curl"}, {"--app", "'curl'"}},
      {"rule add", {"rule", "add", "--action", "block", "--user", ""}, {"--user"}},
      {"rule edit", {"rule", "edit"}, {"ID"}},
      {"rule edit", {"rule", "edit", "abc", "--action", "block"}, {"rule ID", "'abc'"}},
      {"rule edit", {"rule", "edit", "1"}, {"nothing to change"}},
      {"rule edit", {"rule", "edit", "1", "--dst", "any", "--dst", "10.0.0.0/8"}, {"--dst", "'any'"}},
      {"rule edit", {"rule", "edit", "1", "--enabled", "--disabled"}, {"--enabled", "--disabled"}},
      {"rule edit", {"rule", "edit", "1", "--position", "0"}, {"--position", "'0'"}},
      {"rule list", {"rule", "list", "--json", "extra"}, {"'extra'"}},
      {"rule show", {"rule", "show"}, {"ID"}},
      {"rule show", {"rule", "show", "abc"}, {"rule ID", "'abc'"}},
      {"rule show", {"rule", "show", "-3"}, {"-3"}},
      {"rule show", {"rule", "show", "1", "2"}, {"'2'"}},
      {"rule remove", {"rule", "remove"}, {"ID"}},
      {"rule remove", {"rule", "remove", "1.5"}, {"'1.5'"}},
      {"rule enable", {"rule", "enable"}, {"ID"}},
      {"rule enable", {"rule", "enable", "x"}, {"'x'"}},
      {"rule disable", {"rule", "disable", "0"}, {"'0'"}},
      {"rule move", {"rule", "move", "1"}, {"--to", "--before", "--after"}},
      {"rule move", {"rule", "move", "1", "--to", "abc"}, {"--to", "'abc'"}},
      {"rule move", {"rule", "move", "1", "--before", "x"}, {"--before", "'x'"}},
      {"rule move", {"rule", "move", "1", "--after", "-1"}, {"--after"}},
      {"rule move", {"rule", "move", "1", "--to", "1", "--after", "2"}, {"--to", "--after"}},
      {"rule move", {"rule", "move", "1", "--before", "1"}, {"itself"}},
      {"rule move", {"rule", "move", "abc", "--to", "1"}, {"'abc'"}},
      {"quota set", {"quota", "set", "--rate-up", "1MiB/s"}, {"--app", "--global"}},
      {"quota set", {"quota", "set", "--app", test::program_path("curl")}, {"nothing to set"}},
      {"quota set", {"quota", "set", "--app", test::program_path("curl"), "--global", "--rate-up", "1MiB/s"}, {"--app", "--global"}},
      {"quota set", {"quota", "set", "--app", test::program_path("curl"), "--rate-up", "fast"}, {"--rate-up", "'fast'"}},
      {"quota set", {"quota", "set", "--app", test::program_path("curl"), "--rate-down", "0"}, {"--rate-down"}},
      {"quota set", {"quota", "set", "--app", test::program_path("curl"), "--rate-up", "1MiB/s", "--burst-up", "huge"}, {"--burst-up", "'huge'"}},
      {"quota set", {"quota", "set", "--app", test::program_path("curl"), "--volume", "lots"}, {"--volume", "'lots'"}},
      {"quota set", {"quota", "set", "--app", test::program_path("curl"), "--volume", "1GB", "--period", "year"}, {"--period", "'year'"}},
      {"quota set", {"quota", "set", "--app", test::program_path("curl"), "--volume", "1GB", "--on-exceed", "explode"}, {"--on-exceed", "'explode'"}},
      {"quota set", {"quota", "set", "--app", test::program_path("curl"), "--volume", "1GB", "--on-exceed", "throttle"}, {"--throttle-rate"}},
      {"quota set", {"quota", "set", "--app", test::program_path("curl"), "--period", "week"}, {"--period", "--volume"}},
      {"quota set", {"quota", "set", "--app", "curl", "--rate-up", "1MiB/s"}, {"--app", "'curl'"}},
      {"quota set", {"quota", "set", "--app", test::program_path("*"), "--rate-up", "1MiB/s"}, {"--app", "glob"}},
      {"quota show", {"quota", "show", "--app"}, {"--app"}},
      {"quota clear", {"quota", "clear"}, {"--app", "--global"}},
      {"usage show", {"usage", "show", "--since", "notadate"}, {"--since", "'notadate'"}},
      {"usage show", {"usage", "show", "--since", "2024-02-30"}, {"--since", "'2024-02-30'"}},
      {"usage show", {"usage", "show", "--app"}, {"--app"}},
      {"policy export", {"policy", "export", "--file"}, {"--file"}},
      {"policy export", {"policy", "export", "--file", "/nonexistent/dir/policy.json"}, {"--file", "/nonexistent/dir/policy.json"}},
      {"policy import", {"policy", "import"}, {"--file"}},
      {"policy import", {"policy", "import", "--file", "/nonexistent/policy.json"}, {"--file", "/nonexistent/policy.json"}},
      {"policy import", {"policy", "import", "--file", "-", "--replace", "--merge"}, {"--replace", "--merge"}},
      {"policy check", {"policy", "check", "--dst", "192.0.2.1", "--port", "80"}, {"--app"}},
      {"policy check", {"policy", "check", "--app", test::program_path("curl"), "--port", "80"}, {"--dst"}},
      {"policy check", {"policy", "check", "--app", test::program_path("curl"), "--dst", "192.0.2.1"}, {"--port"}},
      {"policy check", {"policy", "check", "--app", test::program_path("curl"), "--dst", "192.0.2.1", "--port", "70000"}, {"--port", "'70000'"}},
      {"policy check", {"policy", "check", "--app", test::program_path("curl"), "--dst", "192.0.2.1", "--port", "http"}, {"--port", "'http'"}},
      {"policy check", {"policy", "check", "--app", test::program_path("curl"), "--dst", "10.0.0.300", "--port", "80"}, {"--dst", "'10.0.0.300'"}},
      {"policy check", {"policy", "check", "--app", test::program_path("curl"), "--dst", "192.0.2.1", "--port", "80", "--proto", "any"}, {"--proto", "'any'"}},
      {"settings show", {"settings", "show", "--json", "extra"}, {"'extra'"}},
      {"settings set", {"settings", "set"}, {"KEY"}},
      {"settings set", {"settings", "set", "fail_mode"}, {"VALUE"}},
      {"settings set", {"settings", "set", "fail_mode", "ajar"}, {"fail_mode", "'ajar'"}},
      {"settings set", {"settings", "set", "provider_timeout_ms", "-1"}, {"provider_timeout_ms", "'-1'"}},
      {"settings set", {"settings", "set", "colour", "blue"}, {"colour"}},
      {"settings set", {"settings", "set", "fail_mode", "open", "now"}, {"'now'"}},
      {"audit show", {"audit", "show", "--limit", "-1"}, {"--limit", "'-1'"}},
      {"audit show", {"audit", "show", "--limit", "many"}, {"--limit", "'many'"}},
      {"audit show", {"audit", "show", "--since", "notadate"}, {"--since", "'notadate'"}},
      {"flows", {"flows", "--app"}, {"--app"}},
      {"flows", {"flows", "--active=yes"}, {"active"}},
      {"stats", {"stats", "--format", "xml"}, {"--format", "'xml'"}},
      {"stats", {"stats", "--format"}, {"--format"}},
      {"stats", {"stats", "--json", "--format", "text"}, {"--json", "--format"}},
      {"top", {"top", "--interval", "abc"}, {"--interval", "'abc'"}},
      {"top", {"top", "--interval", "0"}, {"--interval", "'0'"}},
      {"top", {"top", "--count", "-2"}, {"--count"}},
      {"provider install", {"provider", "install", "--library", "/nonexistent/libsluice_preload.so"},
       {"--library", "/nonexistent/libsluice_preload.so"}, "--library"},
      {"provider install", {"provider", "install", "--library", "/etc/hostname"}, {"--library", "'/etc/hostname'"}, "--library"},
      {"provider install", {"provider", "install", "--preload-file"}, {"--preload-file"}, "--preload-file"},
      {"provider install", {"provider", "install", "--dll", "C:\\nonexistent\\sluice_lsp.dll"},
       {"--dll", "C:\\nonexistent\\sluice_lsp.dll", "no such file"}, "--dll"},
      {"provider install", {"provider", "install", "--dll"}, {"--dll"}, "--dll"},
      {"provider uninstall", {"provider", "uninstall", "--preload-file"}, {"--preload-file"}, "--preload-file"},
      {"provider uninstall", {"provider", "uninstall", "--json=yes"}, {"json"}},
      {"provider status", {"provider", "status", "--preload-file"}, {"--preload-file"}, "--preload-file"},
      {"provider status", {"provider", "status", "--json=yes"}, {"json"}},
      {"service reload", {"service", "reload", "--json", "now"}, {"'now'"}},
      // The groups themselves.
      {"rule", {"rule"}, {"which one"}},
      {"rule", {"rule", "frobnicate"}, {"'frobnicate'"}},
      {"quota", {"quota", "frobnicate"}, {"'frobnicate'"}},
      {"usage", {"usage", "frobnicate"}, {"'frobnicate'"}},
      {"policy", {"policy"}, {"which one"}},
      {"settings", {"settings", "frobnicate"}, {"'frobnicate'"}},
      {"audit", {"audit", "frobnicate"}, {"'frobnicate'"}},
      {"provider", {"provider", "frobnicate"}, {"'frobnicate'"}},
      {"service", {"service", "restart"}, {"'restart'"}},
  };
  return cases;
}

class CliBadInputTest : public ::testing::Test {
 protected:
  CliBadInputTest() : config_{dir_.file("state"), test::unique_endpoint(dir_), spdlog::level::warn}, service_(config_) {}

  CliRun run(std::vector<std::string> args) {
    args.insert(args.begin(), {"--control", config_.control_endpoint});
    std::ostringstream out, err;
    const int status = run_cli(args, out, err);
    return {status, out.str(), err.str()};
  }

  static std::vector<std::string> words(const std::string& command) { return test_listing::words(command); }

  // The commands `--help` lists, with each group's subcommands ("rule add", ...).
  std::set<std::string> listed_commands() {
    return test_listing::listed_commands(
        [&](std::vector<std::string> args) {
          args.push_back("--help");
          const CliRun help = run(args);
          EXPECT_EQ(help.status, kExitOk) << ::testing::PrintToString(args);
          return help.out;
        },
        /*groups=*/true);
  }

  test::TempDir dir_;
  service::ServiceConfig config_;
  test::RunningService service_;
};

TEST_F(CliBadInputTest, EveryCommandIsInTheTable) {
  std::set<std::string> tabled;
  for (const auto& c : bad_usages()) tabled.insert(c.command);
  const std::set<std::string> listed = listed_commands();
  EXPECT_GT(listed.size(), 20u) << "the help was not parsed";
  EXPECT_EQ(tabled, listed) << "a command was added or removed: give it its bad inputs here";
}

TEST_F(CliBadInputTest, BadArgumentsExitTwoNamingTheProblem) {
  std::size_t tried = 0, wrong = 0;
  auto check = [&](const std::vector<std::string>& args, const std::vector<std::string>& names) {
    ++tried;
    const CliRun r = run(args);
    bool ok = r.status == kExitUsage;
    for (const auto& name : names) ok = ok && r.err.find(name) != std::string::npos;
    if (!ok) ++wrong;
    EXPECT_TRUE(ok) << ::testing::PrintToString(args) << " exited " << r.status << " saying: " << r.err
                    << "wanted exit 2 naming " << ::testing::PrintToString(names);
  };
  std::size_t not_offered = 0;
  for (const auto& c : bad_usages()) {
    if (c.only_if_offered) {
      auto help = words(c.command);
      help.push_back("--help");
      if (run(help).out.find(std::string(c.only_if_offered) + " ") == std::string::npos) {
        ++not_offered;
        continue;
      }
    }
    check(c.args, c.names);
  }
  EXPECT_LT(not_offered, bad_usages().size() / 10) << "most rows must apply on every platform";

  // An unknown option and a stray word on every command, after the words it takes.
  const std::map<std::string, std::vector<std::string>> takes_words = {
      {"rule show", {"1"}}, {"rule edit", {"1"}}, {"rule remove", {"1"}}, {"rule enable", {"1"}}, {"rule disable", {"1"}},
      {"rule move", {"1", "--to", "2"}}, {"settings set", {"fail_mode", "open"}}};
  for (const auto& command : listed_commands()) {
    const CliRun group_help = run({words(command).front(), "--help"});
    if (words(command).size() == 1 && group_help.out.find("Commands:") != std::string::npos) continue;  // a group
    auto args = words(command);
    if (auto it = takes_words.find(command); it != takes_words.end()) args.insert(args.end(), it->second.begin(), it->second.end());
    args.push_back("--bogus");
    check(args, {"--bogus"});
    args.back() = "stray";
    check(args, {"'stray'"});
    args.back() = "-7";
    check(args, {"'-7'"});
  }

  // Global options.
  check({"--timeout", "abc", "status"}, {"--timeout", "abc"});
  check({"--timeout", "0", "status"}, {"--timeout", "'0'"});
  check({"--timeout", "-1", "status"}, {"--timeout"});
  check({"--bogus", "status"}, {"--bogus"});
  check({"frobnicate"}, {"'frobnicate'"});
  std::cout << "[ figures ] " << listed_commands().size() << " commands, " << tried << " bad command lines tried, errors: " << wrong
            << "\n";
}

// Well-formed requests naming what is not there: exit 5 (not found), in the service's words.
TEST_F(CliBadInputTest, WhatOnlyTheServiceCanJudgeIsNotFound) {
  for (const std::vector<std::string>& args : std::vector<std::vector<std::string>>{
           {"rule", "show", "4242"},
           {"rule", "remove", "4242"},
           {"rule", "enable", "4242"},
           {"rule", "move", "4242", "--to", "1"},
           {"quota", "clear", "--app", test::program_path("never-limited")},
           {"quota", "show", "--app", test::program_path("never-limited")}}) {
    const CliRun r = run(args);
    EXPECT_EQ(r.status, kExitNotFound) << ::testing::PrintToString(args) << ": " << r.err;
    EXPECT_FALSE(r.err.empty()) << ::testing::PrintToString(args);
  }
  EXPECT_NE(run({"rule", "show", "4242"}).err.find("4242"), std::string::npos);
}

}  // namespace
}  // namespace sluice::cli
