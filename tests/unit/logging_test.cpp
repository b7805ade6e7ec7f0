#include "common/logging.h"

#include <gtest/gtest.h>
#include <spdlog/spdlog.h>

#include <fstream>
#include <sstream>
#include <string>

#include "common/log_destinations.h"
#include "tests/support/temp_dir.h"

namespace sluice {
namespace {

std::string read_file(const std::string& path) {
  std::ifstream in(path);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

// Logs one ordinary and one lifecycle line at info with the given level, and
// returns what reached the log file.
std::string log_file_after(spdlog::level::level_enum level) {
  test::TempDir dir;
  const std::string path = dir.file("sluiced.log");
  init_logging(LogSettings{level, /*console=*/false, path});
  SPDLOG_INFO("ordinary line");
  lifecycle_log().info("lifecycle line");
  spdlog::default_logger()->flush();
  lifecycle_log().flush();
  std::string text = read_file(path);
  spdlog::drop_all();  // releases the file before the directory goes
  return text;
}

TEST(Logging, LifecycleLinesComeFromTheLifecycleLogger) {
  test::TempDir dir;
  init_logging(LogSettings{spdlog::level::info, /*console=*/false, dir.file("sluiced.log")});
  // The Event Log sink tells lifecycle lines by this name (event_log_type).
  EXPECT_EQ(lifecycle_log().name(), kLifecycleLoggerName);
  EXPECT_NE(spdlog::default_logger()->name(), kLifecycleLoggerName);
  spdlog::drop_all();
}

TEST(Logging, BothLoggersWriteTheSameFile) {
  const std::string text = log_file_after(spdlog::level::info);
  EXPECT_NE(text.find("ordinary line"), std::string::npos) << text;
  EXPECT_NE(text.find("lifecycle line"), std::string::npos) << text;
}

TEST(Logging, LifecycleLinesSurviveAQuieterLevel) {
  const std::string text = log_file_after(spdlog::level::warn);
  EXPECT_EQ(text.find("ordinary line"), std::string::npos) << text;
  EXPECT_NE(text.find("lifecycle line"), std::string::npos) << text;
}

TEST(Logging, OffSilencesLifecycleLinesToo) {
  const std::string text = log_file_after(spdlog::level::off);
  EXPECT_EQ(text.find("lifecycle line"), std::string::npos) << text;
}

}  // namespace
}  // namespace sluice
