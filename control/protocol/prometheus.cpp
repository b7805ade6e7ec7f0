#include "control/protocol/prometheus.h"

#include <cstdio>
#include <stdexcept>
#include <utility>
#include <vector>

namespace sluice::protocol {
namespace {

using json = nlohmann::json;
using Labels = std::vector<std::pair<std::string, std::string>>;

// A sample value: counters and gauges come as JSON integers, flags as booleans.
std::string value_text(const json& value) {
  if (value.is_boolean()) return value.get<bool>() ? "1" : "0";
  if (value.is_number_unsigned()) return std::to_string(value.get<std::uint64_t>());
  if (value.is_number_integer()) return std::to_string(value.get<std::int64_t>());
  if (value.is_number_float()) {
    char text[32];
    std::snprintf(text, sizeof text, "%.17g", value.get<double>());
    return text;
  }
  throw std::invalid_argument(std::string("a metric value must be a number or a boolean, not ") + value.type_name());
}

// One metric family: its samples are collected first, so that a family without any
// is left out entirely and each family's lines stay together, as the format asks.
class Family {
 public:
  Family(std::string name, const char* type, const char* help) : name_(std::move(name)), type_(type), help_(help) {}

  Family& add(const json& value, const Labels& labels = {}) {
    std::string line = name_;
    if (!labels.empty()) {
      line += '{';
      for (std::size_t i = 0; i < labels.size(); ++i) {
        if (i > 0) line += ',';
        line += labels[i].first + "=\"" + prometheus_label_value(labels[i].second) + '"';
      }
      line += '}';
    }
    line += ' ' + value_text(value) + '\n';
    samples_ += line;
    return *this;
  }

  void write(std::string& out) const {
    if (samples_.empty()) return;
    // HELP texts are ours and hold neither backslashes nor line feeds, the two
    // characters a HELP line would have to escape.
    out += "# HELP " + name_ + ' ' + help_ + '\n';
    out += "# TYPE " + name_ + ' ' + type_ + '\n';
    out += samples_;
  }

 private:
  std::string name_;
  const char* type_;
  const char* help_;
  std::string samples_;
};

constexpr const char* kCounter = "counter";
constexpr const char* kGauge = "gauge";

void write_status(std::string& out, const json& status) {
  Family(std::string("sluice_info"), kGauge, "Constant 1, labelled with the version and platform of sluiced.")
      .add(1, {{"version", status.at("version").get<std::string>()}, {"platform", status.at("platform").get<std::string>()}})
      .write(out);
  Family("sluice_uptime_seconds", kGauge, "Seconds since sluiced started.").add(status.at("uptime_seconds")).write(out);

  const json& policy = status.at("policy");
  if (!policy.is_null()) {
    Family("sluice_policy_generation", kGauge, "Generation of the policy in force; it grows with every change.")
        .add(policy.at("generation"))
        .write(out);
    Family("sluice_policy_rules", kGauge, "Rules in the policy in force.").add(policy.at("rules")).write(out);
    Family("sluice_policy_quotas", kGauge, "Quotas in the policy in force, the global one included.")
        .add(policy.at("quotas"))
        .write(out);
  }

  // The control plane's counters are there only while its server runs.
  const json& control = status.at("control");
  struct ControlMetric {
    const char* field;
    const char* name;
    const char* type;
    const char* help;
  };
  static constexpr ControlMetric kControl[] = {
      {"clients_connected", "sluice_control_clients_connected", kGauge, "Control-plane clients connected now."},
      {"clients_accepted", "sluice_control_clients_accepted_total", kCounter, "Control-plane connections accepted."},
      {"clients_refused", "sluice_control_clients_refused_total", kCounter,
       "Control-plane connections refused (too many clients)."},
      {"requests", "sluice_control_requests_total", kCounter, "Control-plane requests handled."},
      {"protocol_errors", "sluice_control_protocol_errors_total", kCounter,
       "Control-plane connections dropped for a malformed frame."},
  };
  for (const auto& m : kControl) {
    if (control.contains(m.field)) Family(m.name, m.type, m.help).add(control.at(m.field)).write(out);
  }
}

void write_totals(std::string& out, const json& stats) {
  const json& totals = stats.at("totals");
  const json& engine = stats.at("engine");
  Family("sluice_relay_available", kGauge, "1 while the relay engine runs; 0 when relay verdicts fail.")
      .add(stats.at("relay_available"))
      .write(out);
  Family("sluice_flows_active", kGauge, "Relayed flows not finished yet.").add(totals.at("flows_active")).write(out);
  Family("sluice_relayed_bytes_total", kCounter,
         "Bytes relayed since sluiced started; up: from programs to destinations, down: back.")
      .add(totals.at("bytes_up"), {{"direction", "up"}})
      .add(totals.at("bytes_down"), {{"direction", "down"}})
      .write(out);
  Family("sluice_relay_rate_bytes_per_second", kGauge, "Current relay rate of all programs together.")
      .add(totals.at("rate_up"), {{"direction", "up"}})
      .add(totals.at("rate_down"), {{"direction", "down"}})
      .write(out);
  Family("sluice_dropped_datagrams_total", kCounter, "UDP datagrams of relayed flows dropped over budget or queue.")
      .add(totals.at("dropped"))
      .write(out);
  Family("sluice_relay_tcp_accepted_total", kCounter, "TCP connections the relay accepted.")
      .add(engine.at("tcp_accepted"))
      .write(out);
  Family("sluice_relay_tcp_unexpected_total", kCounter, "TCP connections the relay reset because no flow expected them.")
      .add(engine.at("tcp_unexpected"))
      .write(out);
  Family("sluice_relay_tcp_connect_failures_total", kCounter, "Relayed TCP destinations that refused or were unreachable.")
      .add(engine.at("tcp_connect_failures"))
      .write(out);
  Family("sluice_relay_tcp_idle_closed_total", kCounter, "Relayed TCP connections reset after relay-tcp-idle-timeout without traffic.")
      .add(engine.value("tcp_idle_closed", json(0)))
      .write(out);
  Family("sluice_relay_udp_associations_total", kCounter, "UDP associations the relay opened.")
      .add(engine.at("udp_associations"))
      .write(out);
  Family("sluice_relay_udp_dropped_datagrams_total", kCounter, "UDP datagrams the relay engine dropped over budget or queue.")
      .add(engine.at("udp_dropped"))
      .write(out);
  Family("sluice_relay_volume_closed_total", kCounter, "Relayed flows ended because their program reached a volume cap that blocks.")
      .add(engine.value("volume_closed", json(0)))
      .write(out);
  Family("sluice_relay_flows_active", kGauge, "Flows the relay engine holds open.").add(engine.at("flows_active")).write(out);
}

void write_apps(std::string& out, const json& apps) {
  Family active("sluice_app_flows_active", kGauge, "Relayed flows of the program not finished yet.");
  Family total("sluice_app_flows_total", kCounter, "Relayed flows the program opened.");
  Family decided("sluice_app_flows_decided_total", kCounter, "Flows of the program decided, by verdict.");
  Family bytes("sluice_app_relayed_bytes_total", kCounter, "Bytes relayed for the program, by direction.");
  Family rate("sluice_app_rate_bytes_per_second", kGauge, "Current relay rate of the program, by direction.");
  Family dropped("sluice_app_dropped_datagrams_total", kCounter, "UDP datagrams of the program dropped over budget or queue.");
  Family over("sluice_app_over_volume_cap", kGauge, "1 when the program has reached a volume cap.");
  for (const json& a : apps) {
    const std::string app = a.at("app").get<std::string>();
    active.add(a.at("flows_active"), {{"app", app}});
    total.add(a.at("flows_total"), {{"app", app}});
    for (const char* verdict : {"direct", "relay", "block"}) {
      decided.add(a.at("decided").at(verdict), {{"app", app}, {"verdict", verdict}});
    }
    bytes.add(a.at("bytes_up"), {{"app", app}, {"direction", "up"}});
    bytes.add(a.at("bytes_down"), {{"app", app}, {"direction", "down"}});
    rate.add(a.at("rate_up"), {{"app", app}, {"direction", "up"}});
    rate.add(a.at("rate_down"), {{"app", app}, {"direction", "down"}});
    dropped.add(a.at("dropped"), {{"app", app}});
    over.add(a.at("over_volume"), {{"app", app}});
  }
  for (const Family* f : {&active, &total, &decided, &bytes, &rate, &dropped, &over}) f->write(out);
}

}  // namespace

std::string prometheus_label_value(std::string_view value) {
  std::string escaped;
  escaped.reserve(value.size());
  for (char c : value) {
    switch (c) {
      case '\\': escaped += "\\\\"; break;
      case '"': escaped += "\\\""; break;
      case '\n': escaped += "\\n"; break;
      default: escaped += c;
    }
  }
  return escaped;
}

std::string prometheus_text(const json& stats, const json& status) {
  std::string out;
  if (!status.is_null()) write_status(out, status);
  write_totals(out, stats);
  write_apps(out, stats.at("apps"));
  return out;
}

}  // namespace sluice::protocol
