// provider/core/provider_config: the file, the environment, and which wins, for
// both providers (each with its own endpoint rule).
#include "provider/core/provider_config.h"

#include <gtest/gtest.h>

#include <map>

using namespace sluice::provider;

namespace {

Lookup env(std::map<std::string, std::string> values) {
  return [values](const char* name) -> std::optional<std::string> {
    auto it = values.find(name);
    return it == values.end() ? std::nullopt : std::optional<std::string>(it->second);
  };
}

constexpr const char* kDefaultControl = "/run/sluice/control.sock";
constexpr const char* kFile = "/etc/sluice/provider.conf";

// The Linux provider's rule (provider/preload/posix_provider_settings.cpp).
const EndpointRule& socket_rule() {
  static const EndpointRule rule{kDefaultControl, [](std::string_view p) { return !p.empty() && p.front() == '/'; },
                                 "an absolute socket path"};
  return rule;
}

void apply_config_file(std::string_view text, ProviderConfig& config) {
  sluice::provider::apply_config_file(text, kFile, socket_rule(), config);
}
void apply_environment(const Lookup& lookup, ProviderConfig& config) {
  sluice::provider::apply_environment(lookup, socket_rule(), config);
}

}  // namespace

TEST(ProviderConfig, DefaultsAreOpenWith250MsOnTheSystemSocket) {
  ProviderConfig c = default_config(socket_rule());
  EXPECT_EQ(c.control, "/run/sluice/control.sock");
  EXPECT_EQ(c.fail_mode, FailMode::open);
  EXPECT_EQ(c.timeout.count(), 250);
  EXPECT_FALSE(c.disabled);
}

TEST(ProviderConfig, FileSetsEveryKeyAndSkipsComments) {
  ProviderConfig c = default_config(socket_rule());
  apply_config_file("# provider\ncontrol = /srv/sluice.sock  # ours\n\nfail_mode=closed\ntimeout_ms = 100\n", c);
  EXPECT_EQ(c.control, "/srv/sluice.sock");
  EXPECT_EQ(c.fail_mode, FailMode::closed);
  EXPECT_EQ(c.timeout.count(), 100);
  EXPECT_TRUE(c.problems.empty());
}

TEST(ProviderConfig, BadLinesAreReportedWithTheirLineAndIgnored) {
  ProviderConfig c = default_config(socket_rule());
  apply_config_file("fail_mode = maybe\ntimeout_ms = 0\ncolour = blue\njust words\ncontrol = relative.sock\n", c);
  EXPECT_EQ(c.fail_mode, FailMode::open);
  EXPECT_EQ(c.timeout.count(), 250);
  EXPECT_EQ(c.control, kDefaultControl);
  ASSERT_EQ(c.problems.size(), 5u);
  EXPECT_NE(c.problems[0].find(":1: fail_mode must be open or closed, not 'maybe'"), std::string::npos);
  EXPECT_NE(c.problems[2].find("unknown key 'colour'"), std::string::npos);
  EXPECT_NE(c.problems[3].find(":4: expected 'key = value'"), std::string::npos);
}

TEST(ProviderConfig, EnvironmentWinsOverTheFile) {
  ProviderConfig c = default_config(socket_rule());
  apply_config_file("fail_mode = closed\ntimeout_ms = 100\n", c);
  apply_environment(env({{"SLUICE_FAIL_MODE", "open"}, {"SLUICE_PROVIDER_TIMEOUT_MS", "40"}, {"SLUICE_CONTROL", "/tmp/x.sock"}}), c);
  EXPECT_EQ(c.fail_mode, FailMode::open);
  EXPECT_EQ(c.timeout.count(), 40);
  EXPECT_EQ(c.control, "/tmp/x.sock");
}

TEST(ProviderConfig, DisableTakesAnyValueButZero) {
  ProviderConfig a = default_config(socket_rule()), b = default_config(socket_rule());
  apply_environment(env({{"SLUICE_PROVIDER_DISABLE", "1"}}), a);
  apply_environment(env({{"SLUICE_PROVIDER_DISABLE", "0"}}), b);
  EXPECT_TRUE(a.disabled);
  EXPECT_FALSE(b.disabled);
}

TEST(ProviderConfig, TheServiceProgramIsRecognisedByName) {
  EXPECT_TRUE(is_service_program("/usr/sbin/sluiced"));
  EXPECT_TRUE(is_service_program("sluiced"));
  EXPECT_FALSE(is_service_program("/usr/bin/sluicectl"));
  EXPECT_FALSE(is_service_program("/opt/sluiced-wrapper"));
  // The Windows service, whatever the case of its path.
  EXPECT_TRUE(is_service_program("C:\\Program Files\\Sluice\\SLUICED.EXE"));
  EXPECT_FALSE(is_service_program("C:\\Program Files\\Sluice\\sluicectl.exe"));
}

TEST(ProviderConfig, BadEnvironmentValuesAreIgnoredWithTheSameBoundsAsTheFile) {
  ProviderConfig c = default_config(socket_rule());
  apply_environment(env({{"SLUICE_FAIL_MODE", "shut"}, {"SLUICE_PROVIDER_TIMEOUT_MS", "60001"}, {"SLUICE_CONTROL", "x"}}), c);
  EXPECT_EQ(c.fail_mode, FailMode::open);
  EXPECT_EQ(c.timeout.count(), 250);
  EXPECT_EQ(c.control, kDefaultControl);
  EXPECT_EQ(c.problems.size(), 3u);
  apply_environment(env({{"SLUICE_PROVIDER_TIMEOUT_MS", "60000"}}), c);
  EXPECT_EQ(c.timeout.count(), 60000);
}
