#include "service/rpc/status_methods.h"

#include <fmt/ranges.h>
#include <spdlog/spdlog.h>

#include "common/logging.h"
#include "common/platform/platform.h"
#include "common/version.h"
#include "service/flows/policy_snapshot.h"
#include "service/rpc/control_server.h"
#include "service/rpc/reload_report.h"

namespace sluice::service {

using protocol::json;

void register_status_methods(protocol::Dispatcher& dispatcher, const ServiceInfo& info) {
  dispatcher.add("sluice.hello", protocol::Access::read, [](const json& params, const protocol::Caller&) {
    const json requested = protocol::required_param<json>(params, "protocol");
    if (!requested.is_object() || !requested.contains("major") || !requested["major"].is_number_integer()) {
      throw protocol::RpcError(protocol::kInvalidParams, "parameter 'protocol' must be {\"major\": N, \"minor\": N}",
                               json{{"field", "protocol"}});
    }
    // Compared as JSON numbers: get<int>() would read 4294967297 as 1.
    const json& major = requested["major"];
    if (major != kProtocolMajor) {
      throw protocol::RpcError(protocol::kProtocolMismatch,
                               "the client speaks control protocol " + major.dump() + ".x, this sluiced speaks " +
                                   std::to_string(kProtocolMajor) + "." + std::to_string(kProtocolMinor),
                               json{{"service_protocol", {{"major", kProtocolMajor}, {"minor", kProtocolMinor}}}});
    }
    return json{{"service", "sluiced"},
                {"version", version()},
                {"protocol", {{"major", kProtocolMajor}, {"minor", kProtocolMinor}}}};
  });

  dispatcher.add("service.status", protocol::Access::read, [&info](const json&, const protocol::Caller& caller) {
    const auto uptime = std::chrono::duration_cast<std::chrono::seconds>(std::chrono::steady_clock::now() - info.started);
    json control{{"endpoint", info.control ? info.control->endpoint() : ""}};
    if (info.control) {
      const ControlServerCounters c = info.control->counters();
      control["clients_connected"] = c.clients_connected;
      control["clients_accepted"] = c.clients_accepted;
      control["clients_refused"] = c.clients_refused;
      control["clients_refused_per_user"] = c.clients_refused_per_user;
      control["clients_refused_reserve"] = c.clients_refused_reserve;
      control["requests"] = c.requests;
      control["protocol_errors"] = c.protocol_errors;
    }
    json policy = nullptr;
    if (info.policy) {
      auto snapshot = info.policy->snapshot();
      policy = json{{"generation", snapshot->generation},
                    {"rules", snapshot->rules.size()},
                    {"quotas", snapshot->quotas.size() + (snapshot->global_quota ? 1 : 0)},
                    {"default_action", policy::to_string(snapshot->default_action)}};
    }
    return json{
        {"service", "sluiced"},
        {"policy", policy},
        {"version", version()},
        {"protocol", std::to_string(kProtocolMajor) + "." + std::to_string(kProtocolMinor)},
        {"platform", platform::name()},
        {"pid", platform::current_pid()},
        {"started_at", info.started_at},
        {"uptime_seconds", uptime.count()},
        {"instance_id", info.instance_id},
        {"state_dir", info.state_dir},
        {"database", {{"path", info.database_path}, {"schema_level", info.schema_level}}},
        {"control", control},
        {"flow_limits", info.flow_limits ? info.flow_limits() : json()},
        {"caller", {{"pid", caller.pid}, {"account", caller.account}, {"administrator", caller.administrator}}},
    };
  });
}

void register_reload_method(protocol::Dispatcher& dispatcher, std::function<ReloadReport()> reload) {
  dispatcher.add("service.reload", protocol::Access::admin, [reload](const json&, const protocol::Caller& caller) {
    try {
      const ReloadReport report = reload();
      lifecycle_log().info("configuration {} reloaded by {}: applied [{}], waiting for a restart [{}]", report.config_file,
                  caller.account, fmt::join(report.applied, ", "), fmt::join(report.restart_required, ", "));
      return json{{"config_file", report.config_file},
                  {"applied", report.applied},
                  {"restart_required", report.restart_required}};
    } catch (const ReloadError& e) {
      SPDLOG_WARN("configuration reload by {} refused: {}", caller.account, e.what());
      throw protocol::RpcError(protocol::kConfigurationError, e.what());
    }
  });
}

}  // namespace sluice::service
