// sluicectl quota set|show|clear
#include <ostream>

#include "control/cli/command_support.h"
#include "control/cli/table.h"

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

std::string volume_text(const json& volume) {
  if (volume.is_null()) return "-";
  std::string text = size_text(volume["bytes"]) + "/" + volume["period"].get<std::string>();
  if (volume["on_exceed"] == "throttle") text += ", then " + rate_text(volume["throttle_rate"]);
  else text += ", then block";
  return text;
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
    context.out << "quota removed for " << (params.contains("global") ? "everything (global)" : answer["cleared"].get<std::string>())
                << ": it had no other limit\n";
  } else {
    context.out << "quota set for " << (stored.contains("global") ? "everything (global)" : stored["app"].get<std::string>()) << "\n";
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
  if (vm.count("json")) {
    context.out << quotas.dump(2) << "\n";
    return kExitOk;
  }
  if (quotas.empty()) {
    context.out << (vm.count("app") || vm.count("global") ? "no such quota\n" : "no quotas\n");
    return vm.count("app") || vm.count("global") ? kExitFailure : kExitOk;
  }
  Table table({"APPLICATION", "RATE UP", "RATE DOWN", "BURST UP", "BURST DOWN", "VOLUME", "USED", "NOW"});
  for (const auto& q : quotas) {
    const json& cap = q["cap"];
    std::string now = "-";
    if (cap.is_object()) now = cap["reached"].get<bool>() ? (cap["on_exceed"] == "throttle" ? "cap reached: throttled" : "cap reached: blocked") : "under the cap";
    table.add_row({q.contains("global") ? "(global)" : q["app"].get<std::string>(), rate_text(q["rate"]["up"]),
                   rate_text(q["rate"]["down"]), size_text(q["burst"]["up"]), size_text(q["burst"]["down"]),
                   volume_text(q["volume"]), cap.is_object() ? size_text(cap["used"]) + " since " + cap["since"].get<std::string>() : "-", now});
  }
  table.render(context.out);
  return kExitOk;
}

int quota_clear(const CliContext& context, const std::vector<std::string>& args) {
  po::options_description options("Options");
  add_target_options(options);
  po::variables_map vm;
  if (!parse(context, "sluicectl quota clear (--app PATH | --global)", options, args, vm)) return kExitOk;
  json params = target(vm);
  auto client = context.connect();
  const json answer = client.call("quota.clear", params);
  context.out << "quota cleared for " << (vm.count("global") ? "everything (global)" : answer["cleared"].get<std::string>()) << "\n";
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
