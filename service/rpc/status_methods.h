#pragma once

#include <chrono>
#include <functional>
#include <string>

#include "control/protocol/jsonrpc.h"

namespace sluice::service {

struct ReloadReport;
class ControlServer;
class PublishedPolicy;

// What service.status reports about this running instance.
struct ServiceInfo {
  std::chrono::steady_clock::time_point started;
  std::string started_at;       // ISO 8601, UTC
  std::string state_dir;
  std::string database_path;
  int schema_level = 0;
  std::string instance_id;
  const ControlServer* control = nullptr;
  const PublishedPolicy* policy = nullptr;
  std::function<protocol::json()> flow_limits;  // the per-user relay limits and their refusals; unset: none
};

// sluice.hello (protocol version check) and service.status.
void register_status_methods(protocol::Dispatcher& dispatcher, const ServiceInfo& info);

// service.reload (administrators): reads the configuration file again with
// `reload` (which throws ReloadError when it refuses).
void register_reload_method(protocol::Dispatcher& dispatcher, std::function<ReloadReport()> reload);

}  // namespace sluice::service
