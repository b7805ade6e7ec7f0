// sluicectl rule add|edit|list|show|remove|enable|disable|move
#include <algorithm>
#include <ostream>

#include "control/cli/command_support.h"
#include "control/cli/table.h"
#include "control/cli/terminal_text.h"

namespace sluice::cli {
namespace {

// The server names a bad field by its place in the rule ("rule.destinations[1]");
// the user typed a flag, so name the flag.
[[noreturn]] void rethrow_as_usage(const protocol::RpcError& e) {
  throw_usage_naming_flag(e, {{"rule.destinations", "--dst"}, {"rule.ports", "--port"}, {"rule.rate.up", "--rate-up"},
                              {"rule.rate.down", "--rate-down"}, {"rule.app", "--app"}, {"rule.protocol", "--proto"},
                              {"rule.action", "--action"}, {"rule.user", "--user"}, {"rule.comment", "--comment"},
                              {"position", "--position"}});
}

json fetch_rule(const CliContext& context, transport::RpcClient& client, std::int64_t id) {
  (void)context;
  return client.call("rule.get", json{{"id", id}})["rule"];
}

void print_rule(std::ostream& out, const json& r) {
  auto line = [&out](const char* label, const std::string& value) {
    out << "  " << label << std::string(14 - std::string(label).size(), ' ') << printable(value) << "\n";
  };
  out << "rule " << r["id"].get<std::int64_t>() << "\n";
  line("position", std::to_string(r["position"].get<std::int64_t>()));
  line("enabled", r["enabled"].get<bool>() ? "yes" : "no");
  line("action", r["action"].get<std::string>());
  line("application", r["app"].get<std::string>() == "**" ? "** (every program)" : r["app"].get<std::string>());
  line("user", r["user"].is_null() ? "any" : r["user"].get<std::string>());
  line("protocol", r["protocol"].get<std::string>());
  line("destinations", list_text(r["destinations"], "any"));
  line("ports", list_text(r["ports"], "any"));
  line("rate limit", rule_rate_text(r["rate"], r.value("units", json::object())));
  if (r.contains("hits")) line("hits", std::to_string(r["hits"].get<std::uint64_t>()) + " flows decided since sluiced started");
  line("comment", r["comment"].get<std::string>().empty() ? "-" : r["comment"].get<std::string>());
  line("created", r["created_at"].get<std::string>());
  line("updated", r["updated_at"].get<std::string>());
}

// The options that say what a rule is: the same names for add and edit. An edit
// changes only what it names, so it has no defaults, and words that take a field back
// to "any" (these are never valid values, except --user any: give a uid for a user
// literally named "any").
po::options_description rule_options(bool edit) {
  po::options_description options("Options");
  auto app = po::value<std::string>()->value_name("PATH|GLOB");
  auto proto = po::value<std::string>()->value_name("PROTO");
  if (!edit) {
    app->default_value("**");
    proto->default_value("any");
  }
  options.add_options()
      ("action", po::value<std::string>()->value_name("ACTION"), edit ? "direct, relay or block" : "direct, relay or block (required)")
      ("app", app, "the program: a full executable path, or a glob (* within a directory, ** across); ** = every program")
      ("user", po::value<std::string>()->value_name("USER"),
       edit ? "only this user: uid or name (SID or DOMAIN\\user on Windows); 'any' for every user"
            : "only this user: uid or name (SID or DOMAIN\\user on Windows)")
      ("proto", proto, "tcp, udp or any")
      ("dst", po::value<std::vector<std::string>>()->value_name("CIDR"),
       edit ? "destination address or CIDR (repeatable; replaces the rule's list; 'any' for every address)"
            : "destination address or CIDR, IPv4 or IPv6 (repeatable; default any)")
      ("port", po::value<std::vector<std::string>>()->value_name("PORTS"),
       edit ? "destination port or range (repeatable; replaces the rule's list; 'any' for every port)"
            : "destination port or range like 8000-8100 (repeatable; default any)")
      ("rate-up", po::value<std::string>()->value_name("RATE"),
       edit ? "limit what the program sends; 'none' removes the limit" : "limit what the program sends, e.g. 1.5MiB/s or 800kbit/s")
      ("rate-down", po::value<std::string>()->value_name("RATE"),
       edit ? "limit what the program receives; 'none' removes the limit" : "limit what the program receives")
      ("comment", po::value<std::string>()->value_name("TEXT"), edit ? "a note for administrators ('' for none)" : "a note for administrators")
      ("position", po::value<std::string>()->value_name("N"),
       edit ? "also move it to this position (1 = evaluated first)" : "insert at this position (1 = evaluated first; default last)")
      ("disabled", edit ? "switch the rule off" : "add the rule switched off");
  if (edit) options.add_options()("enabled", "switch the rule on");
  add_strict_option(options);
  options.add_options()
      ("dry-run", edit ? "show what would change, change nothing" : "show the rule that would be added and where, add nothing")
      ("json", edit ? "print the rule after the edit as JSON" : "print the stored rule as JSON");
  return options;
}

// The rule fields the options name, as rule.add and rule.edit take them.
json rule_fields(const po::variables_map& vm, bool edit) {
  json rule = json::object();
  auto text = [&vm](const char* name) { return vm[name].as<std::string>(); };
  auto list = [&vm](const char* name, const char* flag) {
    auto values = vm[name].as<std::vector<std::string>>();
    if (std::find(values.begin(), values.end(), "any") == values.end()) return json(values);
    if (values.size() > 1) throw UsageError(std::string(flag) + ": 'any' cannot be combined with other values");
    return json::array();
  };
  auto rate = [&](const char* name) {
    if (!vm.count(name)) return json();
    if (edit && text(name) == "none") return json();
    return json(text(name));
  };
  if (vm.count("action")) rule["action"] = text("action");
  if (vm.count("app")) rule["app"] = text("app");
  if (vm.count("proto")) rule["protocol"] = text("proto");
  if (vm.count("user")) rule["user"] = edit && text("user") == "any" ? json() : json(text("user"));
  if (vm.count("dst")) rule["destinations"] = edit ? list("dst", "--dst") : json(vm["dst"].as<std::vector<std::string>>());
  if (vm.count("port")) rule["ports"] = edit ? list("port", "--port") : json(vm["port"].as<std::vector<std::string>>());
  if (vm.count("comment")) rule["comment"] = text("comment");
  if (vm.count("disabled") && vm.count("enabled")) throw UsageError("--enabled and --disabled exclude each other");
  if (vm.count("disabled")) rule["enabled"] = false;
  else if (vm.count("enabled")) rule["enabled"] = true;
  else if (!edit) rule["enabled"] = true;
  if (edit) {
    // Only the directions named: an edit of --rate-up keeps the down rate.
    json rates = json::object();
    for (const auto& [flag, direction] : {std::pair{"rate-up", "up"}, std::pair{"rate-down", "down"}}) {
      if (vm.count(flag)) rates[direction] = rate(flag);
    }
    if (!rates.empty()) rule["rate"] = rates;
  } else if (vm.count("rate-up") || vm.count("rate-down")) {
    rule["rate"] = json{{"up", rate("rate-up")}, {"down", rate("rate-down")}};
  }
  return rule;
}

json call_rule_method(transport::RpcClient& client, const std::string& method, const json& params) {
  try {
    return client.call(method, params);
  } catch (const protocol::RpcError& e) {
    if (e.code() == protocol::kInvalidParams) rethrow_as_usage(e);
    throw;
  }
}

int rule_add(const CliContext& context, const std::vector<std::string>& args) {
  po::variables_map vm;
  if (!parse(context, "sluicectl rule add --action ACTION [options]", rule_options(false), args, vm)) return kExitOk;
  if (!vm.count("action")) throw UsageError("--action is required (direct, relay or block)");
  json params{{"rule", rule_fields(vm, false)}};
  if (vm.count("position")) params["position"] = positive_integer(vm["position"].as<std::string>(), "--position");
  const bool dry_run = vm.count("dry-run") > 0;
  if (dry_run) params["dry_run"] = true;
  if (vm.count("strict")) params["strict"] = true;

  auto client = context.connect();
  const json answer = call_rule_method(client, "rule.add", params);
  const json& stored = answer["rule"];
  print_warnings(context, answer);
  if (vm.count("json")) {
    context.out << (dry_run ? answer : stored).dump(2) << "\n";
  } else if (dry_run) {
    context.out << "would add at position " << stored["position"] << ": " << rule_line(stored) << "\n";
    if (!answer["duplicate_of"].is_null()) context.out << "  rule " << answer["duplicate_of"] << " already decides the same flows the same way\n";
    context.out << "nothing was changed (--dry-run)\n";
  } else {
    context.out << "added rule " << stored["id"] << " at position " << stored["position"] << "\n";
  }
  if (!vm.count("json")) print_resolved_program(context, answer);
  return kExitOk;
}

int rule_edit(const CliContext& context, const std::vector<std::string>& args) {
  po::variables_map vm;
  if (!parse(context,
             "sluicectl rule edit ID [options]\n\n"
             "Changes rule ID in place: it keeps its id (and, unless --position, its place), so the\n"
             "audit trail and scripts go on naming it. Only the options given change; the others\n"
             "keep their values. The options and their checks are rule add's.",
             rule_options(true), args, vm, {{"id", 1}})) {
    return kExitOk;
  }
  const std::int64_t id = positive_integer(vm["id"].as<std::string>(), "rule ID");
  json params{{"id", id}, {"rule", rule_fields(vm, true)}};
  if (vm.count("position")) params["position"] = positive_integer(vm["position"].as<std::string>(), "--position");
  if (params["rule"].empty() && !vm.count("position")) throw UsageError("nothing to change: give at least one option (see --help)");
  const bool dry_run = vm.count("dry-run") > 0;
  if (dry_run) params["dry_run"] = true;
  if (vm.count("strict")) params["strict"] = true;

  auto client = context.connect();
  const json answer = call_rule_method(client, "rule.edit", params);
  print_warnings(context, answer);
  if (vm.count("json")) {
    context.out << (dry_run ? answer : answer["rule"]).dump(2) << "\n";
    return kExitOk;
  }
  if (!answer["changed"].get<bool>()) {
    context.out << "rule " << id << " unchanged: it already says that\n";
    return kExitOk;
  }
  context.out << (dry_run ? "would change rule " : "changed rule ") << id << " in place:\n"
              << "  before (position " << answer["before"]["position"] << "): " << rule_line(answer["before"]) << "\n"
              << "  after  (position " << answer["rule"]["position"] << "): " << rule_line(answer["rule"]) << "\n";
  if (params["rule"].contains("app")) print_resolved_program(context, answer);
  if (dry_run) context.out << "nothing was changed (--dry-run)\n";
  return kExitOk;
}

int rule_list(const CliContext& context, const std::vector<std::string>& args) {
  po::options_description options("Options");
  options.add_options()("json", "print the rules as a JSON list");
  po::variables_map vm;
  if (!parse(context,
             "sluicectl rule list [--json]\n\n"
             "HITS (\"hits\" in --json) counts the flows each rule decided since sluiced started, like\n"
             "nft's and iptables -v's counters: kept in memory, so a restart sets them to 0. Flows a\n"
             "volume cap then blocked count for the rule that matched; policy check counts nothing.",
             options, args, vm)) {
    return kExitOk;
  }
  auto client = context.connect();
  const json rules = fetch_all_rules(client);
  if (vm.count("json")) {
    context.out << rules.dump(2) << "\n";
    return kExitOk;
  }
  if (rules.empty()) {
    context.out << "no rules: every flow gets the default action (see 'sluicectl settings show')\n";
    return kExitOk;
  }
  Table table({"POS", "ID", "ON", "HITS", "ACTION", "PROTO", "APPLICATION", "USER", "DESTINATIONS", "PORTS", "RATE", "COMMENT"},
              {true, true, false, true});
  for (const auto& r : rules) {
    table.add_row({std::to_string(r["position"].get<std::int64_t>()), std::to_string(r["id"].get<std::int64_t>()),
                   r["enabled"].get<bool>() ? "yes" : "no", std::to_string(r.value("hits", std::uint64_t{0})), r["action"],
                   r["protocol"], r["app"],
                   r["user"].is_null() ? "-" : r["user"].get<std::string>(), list_text(r["destinations"], "any"),
                   list_text(r["ports"], "any"), rule_rate_text(r["rate"], r.value("units", json::object())), r["comment"]});
  }
  table.render(context.out);
  return kExitOk;
}

std::int64_t id_argument(const po::variables_map& vm) { return positive_integer(vm["id"].as<std::string>(), "rule ID"); }

int rule_show(const CliContext& context, const std::vector<std::string>& args) {
  po::options_description options("Options");
  options.add_options()("json", "print the rule as JSON");
  po::variables_map vm;
  if (!parse(context, "sluicectl rule show ID [--json]", options, args, vm, {{"id", 1}})) return kExitOk;
  const std::int64_t id = id_argument(vm);
  auto client = context.connect();
  const json rule = fetch_rule(context, client, id);
  if (vm.count("json")) context.out << rule.dump(2) << "\n";
  else print_rule(context.out, rule);
  return kExitOk;
}

int rule_remove(const CliContext& context, const std::vector<std::string>& args) {
  po::options_description options("Options");
  options.add_options()("json", "print the service's answer as JSON");
  po::variables_map vm;
  if (!parse(context, "sluicectl rule remove ID [--json]", options, args, vm, {{"id", 1}})) return kExitOk;
  const std::int64_t id = id_argument(vm);
  auto client = context.connect();
  const json answer = client.call("rule.remove", json{{"id", id}});
  if (vm.count("json")) context.out << answer.dump(2) << "\n";
  else context.out << "removed rule " << id << "\n";
  return kExitOk;
}

int set_enabled(const CliContext& context, const std::vector<std::string>& args, bool enabled) {
  po::options_description options("Options");
  options.add_options()("json", "print the rule as JSON");
  po::variables_map vm;
  if (!parse(context, std::string("sluicectl rule ") + (enabled ? "enable" : "disable") + " ID [--json]", options, args, vm,
             {{"id", 1}})) {
    return kExitOk;
  }
  const std::int64_t id = id_argument(vm);
  auto client = context.connect();
  const json answer = client.call("rule.set_enabled", json{{"id", id}, {"enabled", enabled}});
  if (vm.count("json")) context.out << answer["rule"].dump(2) << "\n";
  else context.out << (enabled ? "enabled" : "disabled") << " rule " << id << "\n";
  return kExitOk;
}

int rule_enable(const CliContext& context, const std::vector<std::string>& args) { return set_enabled(context, args, true); }
int rule_disable(const CliContext& context, const std::vector<std::string>& args) { return set_enabled(context, args, false); }

int rule_move(const CliContext& context, const std::vector<std::string>& args) {
  po::options_description options("Where to (one of)");
  options.add_options()
      ("to", po::value<std::string>()->value_name("N"), "to position N (1 = evaluated first)")
      ("before", po::value<std::string>()->value_name("ID"), "just before rule ID")
      ("after", po::value<std::string>()->value_name("ID"), "just after rule ID")
      ("json", "print the moved rule as JSON");
  po::variables_map vm;
  if (!parse(context, "sluicectl rule move ID (--to N | --before ID | --after ID) [--json]", options, args, vm, {{"id", 1}})) {
    return kExitOk;
  }
  const std::int64_t id = id_argument(vm);
  if (vm.count("to") + vm.count("before") + vm.count("after") != 1) throw UsageError("give exactly one of --to, --before, --after");
  const bool before = vm.count("before") > 0;
  const std::int64_t target = vm.count("to") ? positive_integer(vm["to"].as<std::string>(), "--to")
                                              : positive_integer(vm[before ? "before" : "after"].as<std::string>(),
                                                                 before ? "--before" : "--after");
  if (!vm.count("to") && target == id) throw UsageError("a rule cannot move relative to itself");
  auto client = context.connect();
  std::int64_t position = 0;
  if (vm.count("to")) {
    position = target;
  } else {
    const std::int64_t other = target;
    const std::int64_t mine = fetch_rule(context, client, id)["position"];
    const std::int64_t theirs = fetch_rule(context, client, other)["position"];
    // Positions close up when this rule leaves its place, so a rule above the
    // target lands one higher than the target's current position.
    position = before ? (mine < theirs ? theirs - 1 : theirs) : (mine < theirs ? theirs : theirs + 1);
  }
  const json rule = client.call("rule.move", json{{"id", id}, {"position", position}})["rule"];
  if (vm.count("json")) context.out << rule.dump(2) << "\n";
  else context.out << "rule " << id << " is now at position " << rule["position"] << "\n";
  return kExitOk;
}

}  // namespace

int rule_command(const CliContext& context, const std::vector<std::string>& args) {
  return dispatch(context, "rule",
                  {{"add", "add a rule (at the end, or --position N)", rule_add},
                   {"edit", "change a rule in place: same id, only the options given change", rule_edit},
                   {"list", "list the rules in evaluation order", rule_list},
                   {"show", "show one rule", rule_show},
                   {"remove", "remove a rule", rule_remove},
                   {"enable", "switch a rule on", rule_enable},
                   {"disable", "switch a rule off (it stays in place)", rule_disable},
                   {"move", "change where a rule is evaluated", rule_move}},
                  args);
}

}  // namespace sluice::cli
