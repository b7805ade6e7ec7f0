#include "control/cli/format.h"

#include <fmt/format.h>

#include "control/cli/terminal_text.h"

namespace sluice::cli {

std::string format_duration(std::int64_t seconds) {
  if (seconds < 0) seconds = 0;
  const std::int64_t d = seconds / 86400, h = seconds / 3600 % 24, m = seconds / 60 % 60, s = seconds % 60;
  if (d > 0) return fmt::format("{}d {:02}h", d, h);
  if (h > 0) return fmt::format("{}h {:02}m", h, m);
  if (m > 0) return fmt::format("{}m {:02}s", m, s);
  return fmt::format("{}s", s);
}

std::string format_status(const nlohmann::json& status) {
  const auto& control = status.at("control");
  const auto& database = status.at("database");
  const auto& caller = status.value("caller", nlohmann::json::object());
  std::string out = fmt::format("sluiced {} is running\n", status.at("version").get<std::string>());
  auto row = [&out](const char* label, const std::string& value) { out += fmt::format("  {:<11}{}\n", label, printable(value)); };
  row("pid", std::to_string(status.at("pid").get<std::int64_t>()));
  row("uptime", fmt::format("{} (since {})", format_duration(status.at("uptime_seconds").get<std::int64_t>()),
                            status.at("started_at").get<std::string>()));
  row("platform", status.at("platform").get<std::string>());
  row("control", fmt::format("{} ({} connected, {} requests, {} protocol errors)", control.at("endpoint").get<std::string>(),
                             control.value("clients_connected", 0), control.value("requests", 0),
                             control.value("protocol_errors", 0)));
  row("database", fmt::format("{} (schema level {})", database.at("path").get<std::string>(),
                              database.at("schema_level").get<int>()));
  row("state dir", status.at("state_dir").get<std::string>());
  if (status.contains("policy") && status["policy"].is_object()) {
    const auto& policy = status["policy"];
    row("policy", fmt::format("{} rules, {} quotas, default action {} (generation {})", policy.value("rules", 0),
                              policy.value("quotas", 0), policy.value("default_action", std::string("?")),
                              policy.value("generation", 0)));
  }
  if (status.contains("flow_limits") && status["flow_limits"].is_object()) {
    const auto& l = status["flow_limits"];
    const auto& refused = l.contains("refused") && l["refused"].is_object() ? l["refused"] : nlohmann::json::object();
    auto refusals = [&](const char* key) { return refused.value(key, std::uint64_t{0}); };
    row("flow limits", fmt::format("per user: {} pending (refused {}), {} relayed TCP (refused {}), {} UDP (refused {}), "
                                   "{} KiB of UDP queued; administrators {}",
                                   l.value("max-pending-flows-per-user", 0), refusals("max-pending-flows-per-user"),
                                   l.value("max-relayed-flows-per-user", 0), refusals("max-relayed-flows-per-user"),
                                   l.value("max-udp-associations-per-user", 0), refusals("max-udp-associations-per-user"),
                                   l.value("max-udp-queued-bytes-per-user", std::uint64_t{0}) / 1024,
                                   l.value("administrators-exempt-from-flow-limits", false) ? "exempt" : "limited too"));
    const auto tcp_idle = l.value("relay-tcp-idle-timeout", std::uint64_t{0});
    row("tcp idle", tcp_idle == 0 ? std::string("off (relayed TCP connections may stay quiet for ever)")
                                          : fmt::format("{} s without traffic resets a relayed TCP connection", tcp_idle));
    row("descriptors", fmt::format("{} free of {}, {} kept for the control plane (refused {})", l.value("descriptors_free", -1),
                                   l.value("descriptors_limit", -1), l.value("descriptor-reserve", 0),
                                   refusals("descriptor-reserve")));
  }
  if (!caller.empty()) {
    row("you", fmt::format("{} ({})", caller.value("account", std::string("?")),
                           caller.value("administrator", false) ? "administrator: may change policy" : "read-only"));
  }
  return out;
}

}  // namespace sluice::cli
