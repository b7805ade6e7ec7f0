// provider/preload/provider_config: the file, the environment, and which wins.
#include <gtest/gtest.h>

#include <map>

#include "provider/preload/provider_config.h"

using namespace sluice::preload;
using sluice::provider::FailMode;

namespace {

Lookup env(std::map<std::string, std::string> values) {
  return [values](const char* name) -> std::optional<std::string> {
    auto it = values.find(name);
    return it == values.end() ? std::nullopt : std::optional<std::string>(it->second);
  };
}

}  // namespace

TEST(PreloadConfig, DefaultsAreOpenWith250MsOnTheSystemSocket) {
  ProviderConfig c;
  EXPECT_EQ(c.control, "/run/sluice/control.sock");
  EXPECT_EQ(c.fail_mode, FailMode::open);
  EXPECT_EQ(c.timeout.count(), 250);
  EXPECT_FALSE(c.disabled);
}

TEST(PreloadConfig, FileSetsEveryKeyAndSkipsComments) {
  ProviderConfig c;
  apply_config_file("# provider\ncontrol = /srv/sluice.sock  # ours\n\nfail_mode=closed\ntimeout_ms = 100\n", c);
  EXPECT_EQ(c.control, "/srv/sluice.sock");
  EXPECT_EQ(c.fail_mode, FailMode::closed);
  EXPECT_EQ(c.timeout.count(), 100);
  EXPECT_TRUE(c.problems.empty());
}

TEST(PreloadConfig, BadLinesAreReportedWithTheirLineAndIgnored) {
  ProviderConfig c;
  apply_config_file("fail_mode = maybe\ntimeout_ms = 0\ncolour = blue\njust words\ncontrol = relative.sock\n", c);
  EXPECT_EQ(c.fail_mode, FailMode::open);
  EXPECT_EQ(c.timeout.count(), 250);
  EXPECT_EQ(c.control, kDefaultControl);
  ASSERT_EQ(c.problems.size(), 5u);
  EXPECT_NE(c.problems[0].find(":1: fail_mode must be open or closed, not 'maybe'"), std::string::npos);
  EXPECT_NE(c.problems[2].find("unknown key 'colour'"), std::string::npos);
  EXPECT_NE(c.problems[3].find(":4: expected 'key = value'"), std::string::npos);
}

TEST(PreloadConfig, EnvironmentWinsOverTheFile) {
  ProviderConfig c;
  apply_config_file("fail_mode = closed\ntimeout_ms = 100\n", c);
  apply_environment(env({{"SLUICE_FAIL_MODE", "open"}, {"SLUICE_PROVIDER_TIMEOUT_MS", "40"}, {"SLUICE_CONTROL", "/tmp/x.sock"}}), c);
  EXPECT_EQ(c.fail_mode, FailMode::open);
  EXPECT_EQ(c.timeout.count(), 40);
  EXPECT_EQ(c.control, "/tmp/x.sock");
}

TEST(PreloadConfig, DisableTakesAnyValueButZero) {
  ProviderConfig a, b;
  apply_environment(env({{"SLUICE_PROVIDER_DISABLE", "1"}}), a);
  apply_environment(env({{"SLUICE_PROVIDER_DISABLE", "0"}}), b);
  EXPECT_TRUE(a.disabled);
  EXPECT_FALSE(b.disabled);
}

TEST(PreloadConfig, TheServiceProgramIsRecognisedByName) {
  EXPECT_TRUE(is_service_program("/usr/sbin/sluiced"));
  EXPECT_TRUE(is_service_program("sluiced"));
  EXPECT_FALSE(is_service_program("/usr/bin/sluicectl"));
  EXPECT_FALSE(is_service_program("/opt/sluiced-wrapper"));
}
