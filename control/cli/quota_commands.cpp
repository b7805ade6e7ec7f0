// sluicectl quota set|show|clear
#include <ostream>
#include <vector>

#include "control/cli/command_support.h"
#include "control/cli/table.h"
#include "control/cli/terminal_text.h"

namespace sluice::cli {
namespace {

void add_target_options(po::options_description& options) {
  options.add_options()
      ("app", po::value<std::string>()->value_name("PATH"), "the program's full executable path")
      ("global", "the machine-wide cap instead of one program's");
}

json target(const po::variables_map& vm) {
  if (vm.count("app") == vm.count("global")) throw UsageError("give either --app PATH or --global");
  return vm.count("global") ? json{{"global", true}} : json{{"app", vm["app"].as<std::string>()}};
}

// "10 GB/month, then block": in the units the quota was written in.
std::string volume_text(const json& quota) {
  const json& volume = quota["volume"];
  if (volume.is_null()) return "-";
  std::string text = size_text(volume["bytes"], unit_of(quota, "volume.bytes")) + "/" + volume["period"].get<std::string>();
  if (volume["on_exceed"] == "throttle") text += ", then " + rate_text(volume["throttle_rate"], unit_of(quota, "volume.throttle_rate"));
  else text += ", then block";
  return text;
}

// What a quota now holds, on one line: "rate up 1 MB/s, volume 10 GB/month, then block".
std::string quota_summary(const json& q) {
  std::vector<std::string> parts;
  for (const auto& [kind, rate] : {std::pair{"rate", true}, std::pair{"burst", false}}) {
    for (const char* direction : {"up", "down"}) {
      const json& value = q[kind][direction];
      if (value.is_null()) continue;
      const std::string key = std::string(kind) + "." + direction;
      parts.push_back(std::string(kind) + " " + direction + " " +
                      (rate ? rate_text(value, unit_of(q, key.c_str())) : size_text(value, unit_of(q, key.c_str()))));
    }
  }
  if (!q["volume"].is_null()) parts.push_back("volume " + volume_text(q));
  std::string out;
  for (const auto& p : parts) out += (out.empty() ? "" : ", ") + p;
  return out;
}

int quota_set(const CliContext& context, const std::vector<std::string>& args) {
  po::options_description options("Options");
  add_target_options(options);
  options.add_options()
      ("rate-up", po::value<std::string>()->value_name("RATE"), "sustained send rate, e.g. 1MiB/s ('none' removes it)")
      ("rate-down", po::value<std::string>()->value_name("RATE"), "sustained receive rate ('none' removes it)")
      ("burst-up", po::value<std::string>()->value_name("SIZE"), "how far sending may run ahead of the rate (default: a twentieth of a second of rate, at least 4 KiB)")
      ("burst-down", po::value<std::string>()->value_name("SIZE"), "the same for receiving")
      ("volume", po::value<std::string>()->value_name("SIZE"), "bytes (up + down) per period, e.g. 10GB ('none' removes the cap)")
      ("period", po::value<std::string>()->value_name("PERIOD")->default_value("day"), "day, week or month (UTC)")
      ("on-exceed", po::value<std::string>()->value_name("ACTION")->default_value("block"),
       "once the volume is used: block (new flows fail) or throttle")
      ("throttle-rate", po::value<std::string>()->value_name("RATE"), "the rate to throttle to, with --on-exceed throttle")
      ("json", "print the stored quota as JSON (null when removing its last limit removed it)");
  add_strict_option(options);
  po::variables_map vm;
  if (!parse(context,
             "sluicectl quota set (--app PATH | --global) [limits]\n\n"
             "PATH is resolved as the system reports a running program (links followed: /bin/curl\n"
             "becomes /usr/bin/curl) and the quota is stored under that path.",
             options, args, vm)) {
    return kExitOk;
  }
  json params = target(vm);
  auto amount = [&](const char* flag) { return vm[flag].as<std::string>() == "none" ? json() : json(vm[flag].as<std::string>()); };
  for (const auto& [kind, up, down] : {std::tuple{"rate", "rate-up", "rate-down"}, std::tuple{"burst", "burst-up", "burst-down"}}) {
    if (!vm.count(up) && !vm.count(down)) continue;
    json directions = json::object();
    if (vm.count(up)) directions["up"] = amount(up);
    if (vm.count(down)) directions["down"] = amount(down);
    params[kind] = directions;
  }
  if (vm.count("volume")) {
    if (vm["volume"].as<std::string>() == "none") {
      params["volume"] = nullptr;
    } else {
      params["volume"] = json{{"bytes", vm["volume"].as<std::string>()},
                              {"period", vm["period"].as<std::string>()},
                              {"on_exceed", vm["on-exceed"].as<std::string>()}};
      if (vm.count("throttle-rate")) params["volume"]["throttle_rate"] = vm["throttle-rate"].as<std::string>();
    }
  } else if (vm.count("throttle-rate") || !vm["period"].defaulted() || !vm["on-exceed"].defaulted()) {
    throw UsageError("--period, --on-exceed and --throttle-rate go with --volume");
  }
  if (params.size() == 1) throw UsageError("nothing to set: give a rate, a burst or a volume");

  if (vm.count("strict")) params["strict"] = true;
  auto client = context.connect();
  json answer, stored;
  try {
    answer = client.call("quota.set", params);
    stored = answer["quota"];
  } catch (const protocol::RpcError& e) {
    if (e.code() == protocol::kInvalidParams) {
      throw_usage_naming_flag(e, {{"quota.rate.up", "--rate-up"}, {"quota.rate.down", "--rate-down"},
                                  {"quota.burst.up", "--burst-up"}, {"quota.burst.down", "--burst-down"},
                                  {"quota.burst", "--burst-up/--burst-down"}, {"quota.volume.bytes", "--volume"},
                                  {"quota.volume.period", "--period"}, {"quota.volume.on_exceed", "--on-exceed"},
                                  {"quota.volume.throttle_rate", "--throttle-rate"}, {"quota.app", "--app"}, {"app", "--app"}});
    }
    throw;
  }
  print_warnings(context, answer);
  if (vm.count("json")) {
    context.out << stored.dump(2) << "\n";  // null: removing its last limit removed the quota
  } else if (stored.is_null()) {
    context.out << "quota removed for " << (params.contains("global") ? "everything (global)" : printable(answer["cleared"].get<std::string>()))
                << ": it had no other limit\n";
  } else {
    context.out << "quota set for " << (stored.contains("global") ? "everything (global)" : printable(stored["app"].get<std::string>()))
                << ": " << quota_summary(stored) << "\n";
    print_resolved_program(context, answer);
  }
  return kExitOk;
}

int quota_show(const CliContext& context, const std::vector<std::string>& args) {
  po::options_description options("Options");
  add_target_options(options);
  options.add_options()("json", "print the quotas as JSON");
  po::variables_map vm;
  if (!parse(context, "sluicectl quota show [--app PATH | --global] [--json]", options, args, vm)) return kExitOk;
  auto client = context.connect();
  json all = client.call("quota.list")["quotas"];
  // What each volume cap holds now, as the service enforces it: used, limit, reached.
  const json caps = client.call("quota.status")["caps"];
  json quotas = json::array();
  for (auto& q : all) {
    if (vm.count("global") && !q.contains("global")) continue;
    if (vm.count("app") && q.value("app", std::string()) != vm["app"].as<std::string>()) continue;
    q["cap"] = nullptr;
    for (const auto& c : caps) {
      if (q.contains("global") ? c.contains("global") : c.value("app", json()) == q["app"]) {
        q["cap"] = c;
        q["cap"].erase("app");
        q["cap"].erase("global");
      }
    }
    quotas.push_back(std::move(q));
  }
  // One quota asked for and not there is "not found", with --json or without, as
  // `rule show` of a missing id is; the whole list may be empty.
  if (quotas.empty() && (vm.count("app") || vm.count("global"))) {
    throw CommandFailed((vm.count("global") ? std::string("there is no global quota")
                                            : "no quota for " + printable(vm["app"].as<std::string>())) +
                            "; 'sluicectl quota show' lists the quotas",
                        kExitNotFound);
  }
  if (vm.count("json")) {
    context.out << quotas.dump(2) << "\n";
    return kExitOk;
  }
  if (quotas.empty()) {
    context.out << "no quotas\n";
    return kExitOk;
  }
  Table table({"APPLICATION", "RATE UP", "RATE DOWN", "BURST UP", "BURST DOWN", "VOLUME", "USED", "NOW"});
  for (const auto& q : quotas) {
    const json& cap = q["cap"];
    std::string now = "-";
    if (cap.is_object()) now = cap["reached"].get<bool>() ? (cap["on_exceed"] == "throttle" ? "cap reached: throttled" : "cap reached: blocked") : "under the cap";
    table.add_row({q.contains("global") ? "(global)" : q["app"].get<std::string>(), rate_text(q["rate"]["up"], unit_of(q, "rate.up")),
                   rate_text(q["rate"]["down"], unit_of(q, "rate.down")), size_text(q["burst"]["up"], unit_of(q, "burst.up")),
                   size_text(q["burst"]["down"], unit_of(q, "burst.down")), volume_text(q), cap.is_object() ? size_text(cap["used"]) + " since " + cap["since"].get<std::string>() : "-", now});
  }
  table.render(context.out);
  return kExitOk;
}

int quota_clear(const CliContext& context, const std::vector<std::string>& args) {
  po::options_description options("Options");
  add_target_options(options);
  options.add_options()("json", "print the service's answer as JSON");
  po::variables_map vm;
  if (!parse(context, "sluicectl quota clear (--app PATH | --global) [--json]", options, args, vm)) return kExitOk;
  json params = target(vm);
  auto client = context.connect();
  const json answer = client.call("quota.clear", params);
  if (vm.count("json")) context.out << answer.dump(2) << "\n";
  else context.out << "quota cleared for " << (vm.count("global") ? "everything (global)" : printable(answer["cleared"].get<std::string>())) << "\n";
  return kExitOk;
}

}  // namespace

int quota_command(const CliContext& context, const std::vector<std::string>& args) {
  return dispatch(context, "quota",
                  {{"set", "set rate, burst or volume limits (others are kept)", quota_set},
                   {"show", "show quotas", quota_show},
                   {"clear", "remove a quota", quota_clear}},
                  args);
}

}  // namespace sluice::cli
