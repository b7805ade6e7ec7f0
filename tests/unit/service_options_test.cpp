#include "service/process/options.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <fstream>

#include "tests/support/shipped_file.h"
#include "tests/support/temp_dir.h"

namespace sluice::service {
namespace {

CommandLine parse_ok(const std::vector<std::string>& args) {
  auto parsed = parse_command_line(args);
  if (auto* e = std::get_if<UsageError>(&parsed)) ADD_FAILURE() << e->message;
  return std::get<CommandLine>(parsed);
}

std::string parse_error(const std::vector<std::string>& args) {
  auto parsed = parse_command_line(args);
  auto* e = std::get_if<UsageError>(&parsed);
  return e ? e->message : "";
}

TEST(ServiceOptionsTest, DefaultsToRunningWithPlatformDefaults) {
  CommandLine cl = parse_ok({});
  EXPECT_EQ(cl.action, CommandLine::Action::run);
  EXPECT_FALSE(cl.foreground);
  EXPECT_FALSE(cl.config.state_dir.empty());
  EXPECT_FALSE(cl.config.control_endpoint.empty());
  EXPECT_EQ(cl.config.log_level, spdlog::level::info);
}

TEST(ServiceOptionsTest, ReadsEveryOption) {
  const std::string state = std::filesystem::absolute("state-here").lexically_normal().string();
  CommandLine cl = parse_ok({"--state-dir", "state-here", "--foreground", "--log-level", "debug"});
  EXPECT_EQ(cl.config.state_dir, state) << "relative directories become absolute";
  EXPECT_TRUE(cl.foreground);
  EXPECT_EQ(cl.config.log_level, spdlog::level::debug);
}

TEST(ServiceOptionsTest, PipeNamesAreKeptAsGiven) {
  EXPECT_EQ(parse_ok({"--control", "\\\\.\\pipe\\x"}).config.control_endpoint, "\\\\.\\pipe\\x");
}

TEST(ServiceOptionsTest, ServiceVerbsAndTheArgumentsTheServiceRunsWith) {
  const std::string state = std::filesystem::absolute("s").lexically_normal().string();
  CommandLine cl = parse_ok({"service", "install", "--control", "\\\\.\\pipe\\p", "--log-level", "warn", "--state-dir", "s"});
  EXPECT_EQ(cl.action, CommandLine::Action::service);
  EXPECT_EQ(cl.service_verb, "install");
  // Only what was given, paths made absolute: the rest comes from the service's file.
  EXPECT_EQ(cl.run_arguments, (std::vector<std::string>{"--state-dir", state, "--control", "\\\\.\\pipe\\p", "--log-level", "warn"}));
}

TEST(ServiceOptionsTest, FlushIntervalInSeconds) {
  EXPECT_EQ(parse_ok({}).config.flush_interval, std::chrono::milliseconds(5000));
  EXPECT_EQ(parse_ok({"--flush-interval", "0.5"}).config.flush_interval, std::chrono::milliseconds(500));
  EXPECT_NE(parse_error({"--flush-interval", "0"}).find("--flush-interval"), std::string::npos);
  EXPECT_NE(parse_error({"--flush-interval", "soon"}).find("flush-interval"), std::string::npos);
  EXPECT_NE(parse_error({"--flush-interval", "5s"}).find("'5s'"), std::string::npos);
}

TEST(ServiceOptionsTest, RelayTcpIdleTimeoutInWholeSecondsOffByDefault) {
  EXPECT_EQ(parse_ok({}).config.flow_limits.tcp_idle_timeout_seconds, 0u);
  EXPECT_EQ(parse_ok({"--relay-tcp-idle-timeout", "600"}).config.flow_limits.tcp_idle_timeout_seconds, 600u);
  EXPECT_EQ(parse_ok({"--relay-tcp-idle-timeout", "0"}).config.flow_limits.tcp_idle_timeout_seconds, 0u);
  const std::string error = parse_error({"--relay-tcp-idle-timeout", "5m"});
  EXPECT_NE(error.find("--relay-tcp-idle-timeout: '5m' is not a whole number from 0 to 604800"), std::string::npos) << error;
  EXPECT_NE(parse_error({"--relay-tcp-idle-timeout", "-1"}).find("'-1'"), std::string::npos);
  EXPECT_NE(parse_error({"--relay-tcp-idle-timeout", "604801"}).find("'604801'"), std::string::npos);
  // An installed service is started with it, like every other setting given.
  const CommandLine cl = parse_ok({"service", "install", "--relay-tcp-idle-timeout", "30"});
  EXPECT_EQ(cl.run_arguments, (std::vector<std::string>{"--relay-tcp-idle-timeout", "30"}));
}

class ConfigFileTest : public ::testing::Test {
 protected:
  std::string write(const std::string& text) {
    const std::string path = dir_.file("sluiced.conf");
    std::ofstream(path, std::ios::binary) << text;
    return path;
  }
  test::TempDir dir_;
};

TEST_F(ConfigFileTest, SettingsComeFromTheFile) {
  const std::string file = write("# comment\nlog-level = debug   # trailing comment\n\nflush-interval=0.5\n"
                                 "state-dir = " + dir_.file("state") + "\nmetrics-listen = 127.0.0.1:9464\n");
  CommandLine cl = parse_ok({"--config", file});
  EXPECT_EQ(cl.config.config_file, std::filesystem::absolute(file).lexically_normal().string());
  EXPECT_EQ(cl.config.log_level, spdlog::level::debug);
  EXPECT_EQ(cl.config.flush_interval, std::chrono::milliseconds(500));
  EXPECT_EQ(cl.config.state_dir, std::filesystem::absolute(dir_.file("state")).lexically_normal().string());
  EXPECT_EQ(cl.config.metrics_listen, "127.0.0.1:9464");
}

TEST_F(ConfigFileTest, TheCommandLineWinsOverTheFile) {
  const std::string file = write("log-level = debug\nflush-interval = 2\n");
  CommandLine cl = parse_ok({"--log-level", "error", "--config", file});
  EXPECT_EQ(cl.config.log_level, spdlog::level::err);
  EXPECT_EQ(cl.config.flush_interval, std::chrono::milliseconds(2000)) << "the file still sets what the flags left out";
  // The installed service gets the file and the flags, so the flags keep winning there.
  EXPECT_EQ(cl.run_arguments, (std::vector<std::string>{"--config", cl.config.config_file, "--log-level", "error"}));
}

TEST_F(ConfigFileTest, TheShippedFileParsesToTheDefaults) {
  const auto shipped = test::shipped_file_text("sluiced.conf");
  ASSERT_TRUE(shipped) << "packaging/sluiced.conf";
  const std::string file = write(std::string(*shipped));
  ServiceConfig from_file = parse_ok({"--config", file}).config;
  ServiceConfig defaults = parse_ok({}).config;
  from_file.config_file.clear();
  EXPECT_EQ(from_file, defaults);
}

TEST_F(ConfigFileTest, ErrorsNameTheFileTheLineAndTheKey) {
  const std::string file = write("log-level = info\n\nlog-level2 = debug\n");
  const std::string unknown = parse_error({"--config", file});
  EXPECT_NE(unknown.find(":3: log-level2: unknown key"), std::string::npos) << unknown;

  write("flush-interval = 0\n");
  const std::string range = parse_error({"--config", file});
  EXPECT_NE(range.find("sluiced.conf:1: flush-interval: '0'"), std::string::npos) << range;

  write("# a\nlog-level = shouty\n");
  EXPECT_NE(parse_error({"--config", file}).find(":2: log-level: 'shouty'"), std::string::npos);

  write("log-level = debug\nlog-level = info\n");
  EXPECT_NE(parse_error({"--config", file}).find("log-level"), std::string::npos) << "a key given twice";

  write("[section]\nlog-level = debug\n");
  EXPECT_NE(parse_error({"--config", file}).find("unknown key"), std::string::npos);

  write("metrics-listen = 0.0.0.0:9464\n");
  const std::string exposed = parse_error({"--config", file});
  EXPECT_NE(exposed.find("sluiced.conf:1: metrics-listen: "), std::string::npos) << exposed;
  EXPECT_NE(exposed.find("loopback"), std::string::npos) << exposed;

  write("foreground = 1\n");
  EXPECT_NE(parse_error({"--config", file}).find("foreground: unknown key"), std::string::npos)
      << "only settings belong in the file";
}

TEST_F(ConfigFileTest, EveryProblemOfTheFileIsReportedOnItsOwnLine) {
  const std::string file = write("log-level = shouty\nbogus = 1\nflush-interval = often\nnot a setting\n"
                                 "max-pending-flows-per-user = 0\nlog-level = info\n");
  const std::string report = parse_error({"--config", file});
  const std::string conf = std::filesystem::absolute(file).lexically_normal().string();
  for (const std::string expected : {conf + ":1: log-level: 'shouty'", conf + ":2: bogus: unknown key",
                                     conf + ":3: flush-interval: 'often'", conf + ":4: 'not a setting' is not 'key = value'",
                                     conf + ":5: max-pending-flows-per-user: '0'",
                                     conf + ":6: log-level: given twice (first on line 1)"}) {
    EXPECT_NE(report.find(expected), std::string::npos) << expected << " in\n" << report;
  }
  EXPECT_EQ(std::count(report.begin(), report.end(), '\n'), 5) << "one problem a line:\n" << report;
}

TEST_F(ConfigFileTest, CheckConfigIsAnActionAndMarksItsErrors) {
  const std::string file = write("log-level = debug\n");
  CommandLine cl = parse_ok({"--check-config", "--config", file, "--state-dir", "s"});
  EXPECT_EQ(cl.action, CommandLine::Action::check_config);
  EXPECT_EQ(cl.config.log_level, spdlog::level::debug) << "the settings are read as a start reads them";
  EXPECT_EQ(std::find(cl.run_arguments.begin(), cl.run_arguments.end(), "--check-config"), cl.run_arguments.end());

  write("log-level = shouty\n");
  auto parsed = parse_command_line({"--check-config", "--config", file});
  ASSERT_TRUE(std::holds_alternative<UsageError>(parsed));
  EXPECT_TRUE(std::get<UsageError>(parsed).check_config);
  parsed = parse_command_line({"--config", file});
  ASSERT_TRUE(std::holds_alternative<UsageError>(parsed));
  EXPECT_FALSE(std::get<UsageError>(parsed).check_config);
  EXPECT_NE(parse_error({"--check-config", "service", "install"}).find("takes no command"), std::string::npos);
}

TEST_F(ConfigFileTest, AMissingFileIsAnError) {
  const std::string missing = dir_.file("nope.conf");
  EXPECT_NE(parse_error({"--config", missing}).find("cannot read '"), std::string::npos);
  EXPECT_NE(parse_error({"--config", ""}).find("empty"), std::string::npos);
}

TEST(ServiceOptionsTest, HelpAndVersion) {
  EXPECT_EQ(parse_ok({"--help"}).action, CommandLine::Action::help);
  EXPECT_EQ(parse_ok({"-h"}).action, CommandLine::Action::help);
  EXPECT_EQ(parse_ok({"--version"}).action, CommandLine::Action::version);
  const std::string help = help_text();
  for (const char* word : {"--config", "--check-config", "--state-dir", "--control", "--foreground", "--log-level", "--metrics-listen",
                           "service install", "reload", "Exit status"}) {
    EXPECT_NE(help.find(word), std::string::npos) << word;
  }
}

TEST(ServiceOptionsTest, BadInputNamesTheProblem) {
  EXPECT_NE(parse_error({"--log-level", "loud"}).find("'loud'"), std::string::npos);
  EXPECT_NE(parse_error({"--bogus"}).find("bogus"), std::string::npos);
  EXPECT_NE(parse_error({"frobnicate"}).find("'frobnicate'"), std::string::npos);
  EXPECT_NE(parse_error({"service"}).find("install"), std::string::npos);
  EXPECT_NE(parse_error({"service", "explode"}).find("'explode'"), std::string::npos);
  EXPECT_NE(parse_error({"--state-dir"}).find("state-dir"), std::string::npos);
  EXPECT_NE(parse_error({"--state-dir", ""}).find("empty"), std::string::npos);
}

}  // namespace
}  // namespace sluice::service
