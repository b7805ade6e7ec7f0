#pragma once

// The statistics of a running sluiced in the Prometheus text exposition format,
// version 0.0.4 (https://prometheus.io/docs/instrumenting/exposition_formats/):
// what `sluicectl stats --format prometheus` prints and sluiced's /metrics serves.
// Pure: it formats the results of the RPC methods stats.get and service.status, so
// the CLI and the service produce the same text from the same numbers.

#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

namespace sluice::protocol {

// The Content-Type of the text below, as an HTTP endpoint announces it.
inline constexpr std::string_view kPrometheusContentType = "text/plain; version=0.0.4; charset=utf-8";

// Every metric family, `# HELP` and `# TYPE` first, one sample a line, "\n" after
// each line. `stats` is a stats.get result; `status` a service.status result, or
// null to leave out what only it knows (uptime, policy, control plane). A family
// without samples (per-program ones when no program has flows) is left out.
// Throws nlohmann::json::exception when a field the format needs is missing, and
// std::invalid_argument when a value is not a number or a boolean.
std::string prometheus_text(const nlohmann::json& stats, const nlohmann::json& status = nullptr);

// A label value between double quotes: backslash, double quote and line feed
// escaped as \\, \" and \n (Windows paths are full of backslashes).
std::string prometheus_label_value(std::string_view value);

}  // namespace sluice::protocol
