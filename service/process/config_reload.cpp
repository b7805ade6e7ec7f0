#include "service/process/config_reload.h"

namespace sluice::service {

ConfigReloader::ConfigReloader(ServiceConfig running, ConfigSource source, LiveSettings live)
    : running_(std::move(running)), source_(std::move(source)), live_(std::move(live)) {}

ServiceConfig ConfigReloader::running() const {
  std::lock_guard lock(mutex_);
  return running_;
}

ReloadReport ConfigReloader::reload() {
  std::lock_guard lock(mutex_);
  if (running_.config_file.empty()) {
    throw ReloadError("sluiced was started without --config, so there is no file to read again");
  }
  auto parsed = source_();
  if (auto* error = std::get_if<UsageError>(&parsed)) {
    std::string problems = error->message;  // one a line: a log line and an RPC error take them on one
    for (auto at = problems.find('\n'); at != std::string::npos; at = problems.find('\n', at)) problems.replace(at, 1, "; ");
    throw ReloadError(problems + "; the running settings are unchanged");
  }
  const ServiceConfig& next = std::get<ServiceConfig>(parsed);

  ReloadReport report;
  report.config_file = next.config_file;
  // The one change that can fail goes first, so a failure leaves everything as it was.
  if (next.metrics_listen != running_.metrics_listen) {
    try {
      live_.set_metrics_listen(next.metrics_listen);
    } catch (const std::exception& e) {
      throw ReloadError(std::string("metrics-listen: ") + e.what() + "; the running settings are unchanged");
    }
    running_.metrics_listen = next.metrics_listen;
    report.applied.push_back("metrics-listen");
  }
  if (next.log_level != running_.log_level) {
    live_.set_log_level(next.log_level);
    running_.log_level = next.log_level;
    report.applied.push_back("log-level");
  }
  if (next.flush_interval != running_.flush_interval) {
    live_.set_flush_interval(next.flush_interval);
    running_.flush_interval = next.flush_interval;
    report.applied.push_back("flush-interval");
  }
  // Moving the database or the endpoint would cut every client and flow off.
  if (next.state_dir != running_.state_dir) report.restart_required.push_back("state-dir");
  if (next.control_endpoint != running_.control_endpoint) report.restart_required.push_back("control");
  // The flow limits are read once, when the flow manager is built.
  for (const FlowLimitSetting& setting : kFlowLimitSettings) {
    const bool changed = setting.count ? next.flow_limits.*setting.count != running_.flow_limits.*setting.count
                                       : next.flow_limits.*setting.flag != running_.flow_limits.*setting.flag;
    if (changed) report.restart_required.push_back(setting.key);
  }
  return report;
}

}  // namespace sluice::service
