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
    // Each limit by the sluiced.conf key the service names it by (service/flows/user_flow_limits.h),
    // so a limit added there shows here without a list of its own.
    const auto& l = status["flow_limits"];
    const auto& refused = l.contains("refused") && l["refused"].is_object() ? l["refused"] : nlohmann::json::object();
    const char* label = "flow limits";
    for (const auto& [key, value] : l.items()) {
      if (key == "refused" || key == "descriptors_free" || key == "descriptors_limit") continue;
      std::string line = key + " = " + (value.is_string() ? value.get<std::string>() : value.dump());
      if (refused.contains(key)) line += " (refused " + refused[key].dump() + ")";
      if (key.ends_with("-timeout") && value == 0) line += " (off)";
      row(label, line);
      label = "";
    }
    row("descriptors", fmt::format("{} free of {}", l.value("descriptors_free", -1), l.value("descriptors_limit", -1)));
  }
  if (!caller.empty()) {
    row("you", fmt::format("{} ({})", caller.value("account", std::string("?")),
                           caller.value("administrator", false) ? "administrator: may change policy" : "read-only"));
  }
  return out;
}

}  // namespace sluice::cli
