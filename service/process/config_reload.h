#pragma once

// `sluicectl service reload`, SIGHUP and SERVICE_CONTROL_PARAMCHANGE: reads the
// configuration again (the file, under the command line the service started with)
// and applies what can change while flows run. Nothing here closes a flow: the
// settings that would (state-dir, control) are reported as waiting for a restart.

#include <chrono>
#include <functional>
#include <mutex>
#include <stdexcept>
#include <string>
#include <variant>
#include <vector>

#include <spdlog/common.h>

#include "service/process/options.h"
#include "service/rpc/reload_report.h"

namespace sluice::service {

// The parts of the running service a reload changes.
struct LiveSettings {
  std::function<void(spdlog::level::level_enum)> set_log_level;
  std::function<void(std::chrono::milliseconds)> set_flush_interval;
  // Throws std::exception when the new listener cannot be opened; the old one must
  // then still be serving (or, if there was none, none).
  std::function<void(const std::string&)> set_metrics_listen;
};

using ConfigSource = std::function<std::variant<ServiceConfig, UsageError>()>;

class ConfigReloader {
 public:
  ConfigReloader(ServiceConfig running, ConfigSource source, LiveSettings live);

  // Thread-safe; reloads are serialised. Throws ReloadError and changes nothing
  // when the file is missing or wrong, or when the service has no file.
  ReloadReport reload();

  ServiceConfig running() const;

 private:
  mutable std::mutex mutex_;
  ServiceConfig running_;
  ConfigSource source_;
  LiveSettings live_;
};

}  // namespace sluice::service
