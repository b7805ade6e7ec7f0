#include "service/options.h"

#include <gtest/gtest.h>

#include <filesystem>

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
  CommandLine cl = parse_ok({"service", "install", "--control", "\\\\.\\pipe\\p", "--log-level", "warn"});
  EXPECT_EQ(cl.action, CommandLine::Action::service);
  EXPECT_EQ(cl.service_verb, "install");
  ASSERT_EQ(cl.run_arguments.size(), 8u);
  EXPECT_EQ(cl.run_arguments[0], "--state-dir");
  EXPECT_EQ(cl.run_arguments[3], "\\\\.\\pipe\\p");
  EXPECT_EQ(cl.run_arguments[5], "warn");
  EXPECT_EQ(cl.run_arguments[6], "--flush-interval");
}

TEST(ServiceOptionsTest, FlushIntervalInSeconds) {
  EXPECT_EQ(parse_ok({}).config.flush_interval, std::chrono::milliseconds(5000));
  EXPECT_EQ(parse_ok({"--flush-interval", "0.5"}).config.flush_interval, std::chrono::milliseconds(500));
  EXPECT_NE(parse_error({"--flush-interval", "0"}).find("--flush-interval"), std::string::npos);
  EXPECT_NE(parse_error({"--flush-interval", "soon"}).find("flush-interval"), std::string::npos);
}

TEST(ServiceOptionsTest, HelpAndVersion) {
  EXPECT_EQ(parse_ok({"--help"}).action, CommandLine::Action::help);
  EXPECT_EQ(parse_ok({"-h"}).action, CommandLine::Action::help);
  EXPECT_EQ(parse_ok({"--version"}).action, CommandLine::Action::version);
  const std::string help = help_text();
  for (const char* word : {"--state-dir", "--control", "--foreground", "--log-level", "service install", "Exit status"}) {
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
