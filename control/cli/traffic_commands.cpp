// sluicectl flows, sluicectl stats, sluicectl top: what the data plane is doing.
#include <algorithm>
#include <chrono>
#include <iostream>
#include <ostream>
#include <thread>

#include "common/platform/platform.h"
#include "control/cli/command_support.h"
#include "control/cli/table.h"
#include "control/protocol/prometheus.h"

namespace sluice::cli {
namespace {

std::string count_text(const json& value) { return std::to_string(value.get<std::uint64_t>()); }

void render_apps(std::ostream& out, const json& apps) {
  Table table({"PROGRAM", "ACTIVE", "FLOWS", "DIRECT", "RELAY", "BLOCK", "SENT", "RECEIVED", "RATE UP", "RATE DOWN", "DROPPED", "QUOTA"},
              {false, true, true, true, true, true, true, true, true, true, true, false});
  for (const auto& a : apps) {
    table.add_row({a["app"], count_text(a["flows_active"]), count_text(a["flows_total"]), count_text(a["decided"]["direct"]),
                   count_text(a["decided"]["relay"]), count_text(a["decided"]["block"]), size_text(a["bytes_up"]),
                   size_text(a["bytes_down"]), rate_text(a["rate_up"]), rate_text(a["rate_down"]), count_text(a["dropped"]),
                   a["over_volume"].get<bool>() ? "volume cap reached" : ""});
  }
  table.render(out);
}

}  // namespace

int flows_command(const CliContext& context, const std::vector<std::string>& args) {
  po::options_description options("Options");
  options.add_options()
      ("app", po::value<std::string>()->value_name("PATH"), "only this program's flows")
      ("active", "only flows that have not finished")
      ("json", "print the flows as JSON");
  po::variables_map vm;
  if (!parse(context, "sluicectl flows [--app PATH] [--active] [--json]\n\n"
                      "Relayed flows: who opened them, where they go, bytes each way and the current rate.\n"
                      "Finished flows stay listed for 30 seconds.",
             options, args, vm)) {
    return kExitOk;
  }
  auto client = context.connect();
  json params{{"after", 0}};
  if (vm.count("app")) params["app"] = vm["app"].as<std::string>();
  if (vm.count("active")) params["active"] = true;
  json listed = all_pages(client, "flows.list", params, "flows", "after");
  json flows = json::array();
  for (auto& f : listed["flows"]) {
    // Filtered here too: a sluiced from before the filters ignores them.
    if (vm.count("app") && f["executable"] != vm["app"].as<std::string>()) continue;
    if (vm.count("active") && (f["state"] == "closed" || f["state"] == "failed")) continue;
    flows.push_back(std::move(f));
  }
  if (vm.count("json")) {
    context.out << flows.dump(2) << "\n";
    return kExitOk;
  }
  if (flows.empty()) {
    context.out << "no relayed flows\n";
    return kExitOk;
  }
  Table table({"ID", "PID", "PROGRAM", "PROTO", "LOCAL", "DESTINATION", "VERDICT", "STATE", "SENT", "RECEIVED", "RATE UP", "RATE DOWN"},
              {true, true, false, false, false, false, false, false, true, true, true, true});
  for (const auto& f : flows) {
    std::string state = f["state"];
    if (!f["error"].get<std::string>().empty()) state += " (" + f["error"].get<std::string>() + ")";
    table.add_row({count_text(f["id"]), std::to_string(f["pid"].get<std::int64_t>()), f["executable"], f["protocol"], f["local"],
                   f["destination"], f["verdict"], state, size_text(f["bytes_up"]), size_text(f["bytes_down"]),
                   rate_text(f["rate_up"]), rate_text(f["rate_down"])});
  }
  table.render(context.out);
  return kExitOk;
}

int stats_command(const CliContext& context, const std::vector<std::string>& args) {
  po::options_description options("Options");
  options.add_options()
      ("format", po::value<std::string>()->value_name("FORMAT")->default_value("text"),
       "text (for people), json (stats.get as it is) or prometheus (text exposition\n"
       "format 0.0.4, what sluiced's /metrics serves, for node_exporter's textfile\n"
       "collector or a pushgateway)")
      ("json", "the same as --format json");
  po::variables_map vm;
  if (!parse(context, "sluicectl stats [--format text|json|prometheus] [--json]\n\n"
                      "Totals of the data plane since sluiced started, and per program: flows decided\n"
                      "direct, relayed or blocked, bytes each way, current rates and drops.",
             options, args, vm)) {
    return kExitOk;
  }
  std::string format = vm["format"].as<std::string>();
  if (vm.count("json")) {
    if (!vm["format"].defaulted() && format != "json") {
      throw UsageError("--json and --format " + format + " disagree; give one of them");
    }
    format = "json";
  }
  if (format != "text" && format != "json" && format != "prometheus") {
    throw UsageError("--format: '" + format + "' is not a format; choose text, json or prometheus");
  }
  auto client = context.connect();
  const json stats = all_pages(client, "stats.get", json::object(), "apps", "after");
  if (format == "json") {
    context.out << stats.dump(2) << "\n";
    return kExitOk;
  }
  if (format == "prometheus") {
    context.out << protocol::prometheus_text(stats, client.call("service.status"));
    return kExitOk;
  }
  const json& t = stats["totals"];
  const json& e = stats["engine"];
  context.out << "Relay:        " << (stats["relay_available"].get<bool>() ? "running" : "unavailable (relay verdicts fail)") << "\n"
              << "Flows:        " << count_text(t["flows_active"]) << " active\n"
              << "Relayed:      " << size_text(t["bytes_up"]) << " sent, " << size_text(t["bytes_down"]) << " received\n"
              << "Rate now:     " << rate_text(t["rate_up"]) << " up, " << rate_text(t["rate_down"]) << " down\n"
              << "TCP:          " << count_text(e["tcp_accepted"]) << " accepted, " << count_text(e["tcp_connect_failures"])
              << " destinations unreachable, " << count_text(e["tcp_unexpected"]) << " unexpected connections reset, "
              << count_text(e.value("tcp_idle_closed", json(0))) << " reset when idle\n"
              << "UDP:          " << count_text(e["udp_associations"]) << " associations, " << count_text(e["udp_dropped"])
              << " datagrams dropped\n"
              << "Volume caps:  " << count_text(e.value("volume_closed", json(0))) << " flows ended at their program's cap\n";
  if (!stats["apps"].empty()) {
    context.out << "\n";
    render_apps(context.out, stats["apps"]);
  }
  return kExitOk;
}

int top_command(const CliContext& context, const std::vector<std::string>& args) {
  po::options_description options("Options");
  options.add_options()
      ("interval", po::value<std::string>()->value_name("SECONDS")->default_value("1"), "seconds between refreshes")
      ("count", po::value<std::string>()->value_name("N"), "stop after N refreshes [default: until interrupted]")
      ("json", "one line of JSON per refresh (JSON Lines): {\"programs\": [...]}, busiest first");
  po::variables_map vm;
  if (!parse(context, "sluicectl top [--interval SECONDS] [--count N] [--json]\n\n"
                      "Per-program rates, refreshed (like nethogs): the busiest programs first.",
             options, args, vm)) {
    return kExitOk;
  }
  const auto interval = positive_integer(vm["interval"].as<std::string>(), "--interval");
  const std::int64_t count = vm.count("count") ? positive_integer(vm["count"].as<std::string>(), "--count") : 0;
  const bool terminal = platform::stdout_is_terminal() && &context.out == &std::cout;
  auto client = context.connect();
  for (std::int64_t i = 0; count == 0 || i < count; ++i) {
    if (i > 0) std::this_thread::sleep_for(std::chrono::seconds(interval));
    json apps = all_pages(client, "stats.get", json::object(), "apps", "after")["apps"];
    std::vector<json> rows(apps.begin(), apps.end());
    std::stable_sort(rows.begin(), rows.end(), [](const json& a, const json& b) {
      return a["rate_up"].get<std::uint64_t>() + a["rate_down"].get<std::uint64_t>() >
             b["rate_up"].get<std::uint64_t>() + b["rate_down"].get<std::uint64_t>();
    });
    if (vm.count("json")) {  // a stream a script reads line by line, never redrawn
      context.out << json{{"programs", rows}, {"interval_seconds", interval}}.dump() << "\n";
      context.out.flush();
      continue;
    }
    if (terminal) context.out << "\x1b[H\x1b[2J";  // home and clear, so the table refreshes in place
    else if (i > 0) context.out << "\n";
    context.out << "sluicectl top: " << rows.size() << " programs, every " << interval << "s\n";
    render_apps(context.out, json(rows));
    context.out.flush();
  }
  return kExitOk;
}

}  // namespace sluice::cli
