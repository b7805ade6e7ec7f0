#include "service/process/config_reload.h"

#include <gtest/gtest.h>

#include <stdexcept>

namespace sluice::service {
namespace {

ServiceConfig started() {
  ServiceConfig c;
  c.config_file = "/etc/sluice/sluiced.conf";
  c.state_dir = "/var/lib/sluice";
  c.control_endpoint = "/run/sluice/control.sock";
  return c;
}

// Records what the reloader asked the running service to change.
struct FakeService {
  std::vector<std::string> calls;
  bool metrics_fails = false;
  LiveSettings live() {
    return LiveSettings{
        [this](spdlog::level::level_enum level) { calls.push_back("log-level " + std::to_string(int(level))); },
        [this](std::chrono::milliseconds ms) { calls.push_back("flush-interval " + std::to_string(ms.count())); },
        [this](const std::string& address) {
          if (metrics_fails) throw std::runtime_error("127.0.0.1:1 is in use");
          calls.push_back("metrics-listen " + address);
        }};
  }
};

TEST(ConfigReloaderTest, AppliesOnlyWhatChanged) {
  FakeService service;
  ServiceConfig next = started();
  next.log_level = spdlog::level::debug;
  next.metrics_listen = "127.0.0.1:9464";
  ConfigReloader reloader(started(), [&] { return next; }, service.live());

  ReloadReport report = reloader.reload();
  EXPECT_EQ(report.config_file, "/etc/sluice/sluiced.conf");
  EXPECT_EQ(report.applied, (std::vector<std::string>{"metrics-listen", "log-level"}));
  EXPECT_TRUE(report.restart_required.empty());
  EXPECT_EQ(service.calls, (std::vector<std::string>{"metrics-listen 127.0.0.1:9464", "log-level 1"}));
  EXPECT_EQ(reloader.running(), next);

  service.calls.clear();
  EXPECT_TRUE(reloader.reload().applied.empty()) << "the same file again changes nothing";
  EXPECT_TRUE(service.calls.empty());

  next.flush_interval = std::chrono::milliseconds(250);
  EXPECT_EQ(reloader.reload().applied, std::vector<std::string>{"flush-interval"});
  EXPECT_EQ(service.calls, std::vector<std::string>{"flush-interval 250"});
}

TEST(ConfigReloaderTest, StateDirAndControlWaitForARestart) {
  FakeService service;
  ServiceConfig next = started();
  next.state_dir = "/srv/sluice";
  next.control_endpoint = "/run/other.sock";
  ConfigReloader reloader(started(), [&] { return next; }, service.live());
  ReloadReport report = reloader.reload();
  EXPECT_TRUE(report.applied.empty());
  EXPECT_EQ(report.restart_required, (std::vector<std::string>{"state-dir", "control"}));
  EXPECT_TRUE(service.calls.empty());
  EXPECT_EQ(reloader.running().state_dir, "/var/lib/sluice") << "the running service still uses the old one";
}

TEST(ConfigReloaderTest, TheRelayTcpIdleTimeoutWaitsForARestart) {
  FakeService service;
  ServiceConfig next = started();
  next.flow_limits.tcp_idle_timeout_seconds = 600;
  ConfigReloader reloader(started(), [&] { return next; }, service.live());
  ReloadReport report = reloader.reload();
  EXPECT_TRUE(report.applied.empty());
  EXPECT_EQ(report.restart_required, std::vector<std::string>{"relay-tcp-idle-timeout"});
  EXPECT_EQ(reloader.running().flow_limits.tcp_idle_timeout_seconds, 0u) << "the relay engine keeps what it started with";
}

TEST(ConfigReloaderTest, ABadFileChangesNothing) {
  FakeService service;
  ConfigReloader reloader(
      started(), [] { return UsageError{"/etc/sluice/sluiced.conf:3: log-level: 'loud' is not one of ..."}; },
      service.live());
  try {
    reloader.reload();
    FAIL() << "a bad file must be refused";
  } catch (const ReloadError& e) {
    EXPECT_NE(std::string(e.what()).find(":3: log-level: 'loud'"), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("unchanged"), std::string::npos) << e.what();
  }
  EXPECT_TRUE(service.calls.empty());
  EXPECT_EQ(reloader.running(), started());
}

TEST(ConfigReloaderTest, AListenerThatCannotOpenChangesNothing) {
  FakeService service;
  service.metrics_fails = true;
  ServiceConfig next = started();
  next.metrics_listen = "127.0.0.1:1";
  next.log_level = spdlog::level::warn;
  ConfigReloader reloader(started(), [&] { return next; }, service.live());
  EXPECT_THROW(reloader.reload(), ReloadError);
  EXPECT_TRUE(service.calls.empty()) << "the log level must not change when the reload failed";
  EXPECT_EQ(reloader.running(), started());
}

TEST(ConfigReloaderTest, WithoutAFileThereIsNothingToReload) {
  FakeService service;
  ServiceConfig no_file = started();
  no_file.config_file.clear();
  ConfigReloader reloader(no_file, [&] { return no_file; }, service.live());
  try {
    reloader.reload();
    FAIL();
  } catch (const ReloadError& e) {
    EXPECT_NE(std::string(e.what()).find("--config"), std::string::npos);
  }
}

}  // namespace
}  // namespace sluice::service
