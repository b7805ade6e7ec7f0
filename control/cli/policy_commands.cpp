// sluicectl policy export|import|check, and sluicectl settings show|set
#include <fstream>
#include <iostream>
#include <iterator>
#include <sstream>

#include "control/cli/command_support.h"
#include "control/cli/private_file.h"
#include "control/cli/table.h"
#include "control/cli/terminal_text.h"
#include "control/protocol/frame.h"

namespace sluice::cli {
namespace {

// The whole policy of one generation: settings and quotas from policy.export,
// rules from it too when they fit one answer, else paged at the same generation.
json export_document(transport::RpcClient& client) {
  for (int attempt = 0; attempt < 5; ++attempt) {
    json answer = client.call("policy.export");
    json document = answer["document"];
    if (answer["rules_included"].get<bool>()) return document;
    try {
      json rules = fetch_all_rules(client, answer["generation"].get<std::uint64_t>());
      for (auto& rule : rules) {
        for (const char* field : {"id", "position", "created_at", "updated_at"}) rule.erase(field);
      }
      document["rules"] = std::move(rules);
      return document;
    } catch (const protocol::RpcError& e) {
      if (e.code() != protocol::kConflict) throw;
    }
  }
  throw protocol::RpcError(protocol::kConflict, "the policy kept changing during the export; try again");
}

int policy_export(const CliContext& context, const std::vector<std::string>& args) {
  po::options_description options("Options");
  options.add_options()
      ("file", po::value<std::string>()->value_name("FILE"),
       "write the document here, readable by you alone (default: standard output)")
      ("json", "with --file, print what was written as JSON (the document itself is always JSON)");
  po::variables_map vm;
  if (!parse(context, "sluicectl policy export [--file FILE] [--json]", options, args, vm)) return kExitOk;
  auto client = context.connect();
  const json document = export_document(client);
  const std::string text = document.dump(2) + "\n";
  if (!vm.count("file") || vm["file"].as<std::string>() == "-") {
    context.out << text;
    return kExitOk;
  }
  const std::string file = vm["file"].as<std::string>();
  try {
    write_private_file(file, text);
  } catch (const CommandFailed& e) {
    if (e.status() == kExitUsage) throw UsageError(std::string("--file: ") + e.what());
    throw;
  }
  if (vm.count("json")) {
    context.out << json{{"file", file}, {"rules", document["rules"].size()}, {"quotas", document["quotas"].size()},
                        {"settings", document["settings"].size()}}
                       .dump(2)
                << "\n";
  } else {
    context.out << "exported " << document["rules"].size() << " rules, " << document["quotas"].size() << " quotas and "
                << document["settings"].size() << " settings to " << printable(file) << "\n";
  }
  return kExitOk;
}

std::string read_document_text(const std::string& file) {
  if (file == "-") return std::string(std::istreambuf_iterator<char>(std::cin), {});
  std::ifstream in(file, std::ios::binary);
  if (!in) throw UsageError("--file: cannot read '" + file + "'");
  return std::string(std::istreambuf_iterator<char>(in), {});
}

// What an import changed (or would change), rule by rule, as many as the service listed.
void print_import_changes(std::ostream& out, const json& result) {
  auto rows = [&out](const json& rules, const char* mark, std::size_t total) {
    for (const auto& r : rules) {
      out << "  " << mark << " rule ";
      if (r["id"].is_null() || r["id"] == 0) out << "(new)";
      else out << r["id"];
      out << " at " << r["position"] << ": " << rule_line(r) << "\n";
    }
    if (total > rules.size()) out << "  " << mark << " ... and " << total - rules.size() << " more\n";
  };
  rows(result["added"], "+", result["rules_added"].get<std::size_t>());
  rows(result["updated"], "~", result["rules_updated"].get<std::size_t>());
  rows(result["removed"], "-", result["rules_removed"].get<std::size_t>());
  if (result["rules_reordered"].get<bool>()) out << "  rules kept are evaluated in a new order\n";
  for (const auto& q : result["quotas"]["set"]) out << "  quota set: " << printable(q.value("global", false) ? "global" : q["app"].get<std::string>()) << "\n";
  for (const auto& q : result["quotas"]["removed"]) {
    out << "  quota removed: " << printable(q.value("global", false) ? "global" : q["app"].get<std::string>()) << "\n";
  }
  for (const auto& [key, value] : result["settings"].items()) {
    out << "  setting " << printable(key) << " = " << printable(value.is_string() ? value.get<std::string>() : value.dump()) << "\n";
  }
}

int policy_import(const CliContext& context, const std::vector<std::string>& args) {
  po::options_description options("Options");
  options.add_options()
      ("file", po::value<std::string>()->value_name("FILE"), "the policy document ('-' for standard input; required)")
      ("replace", "make the policy exactly the document: rules and quotas not in it are removed")
      ("merge", "add the document's rules that are not there yet, set its quotas and settings (the default)")
      ("dry-run", "show what would change, rule by rule, and change nothing")
      ("json", "print the service's answer as JSON");
  add_strict_option(options);
  po::variables_map vm;
  if (!parse(context,
             "sluicectl policy import --file FILE [--replace | --merge] [--dry-run] [--strict]\n\n"
             "Rules are matched by content: a rule the policy already has keeps its id and its\n"
             "counters. Importing what is already the policy says 'unchanged' and writes nothing.\n"
             "Program paths are resolved as rule add and quota set resolve them.",
             options, args, vm)) {
    return kExitOk;
  }
  if (!vm.count("file")) throw UsageError("--file is required (use '-' for standard input)");
  if (vm.count("replace") && vm.count("merge")) throw UsageError("--replace and --merge exclude each other");
  const std::string file = vm["file"].as<std::string>();
  const std::string where = file == "-" ? "standard input" : file;
  const bool dry_run = vm.count("dry-run") > 0;

  json document;
  try {
    document = json::parse(read_document_text(file));
  } catch (const json::parse_error& e) {
    throw UsageError(where + " is not valid JSON (at byte " + std::to_string(e.byte) + ")");
  }
  const std::string mode = vm.count("replace") ? "replace" : "merge";
  auto client = context.connect();
  json result;
  try {
    json params{{"document", std::move(document)}, {"mode", mode}};
    if (dry_run) params["dry_run"] = true;
    if (vm.count("strict")) params["strict"] = true;
    result = client.call("policy.import", params);
  } catch (const protocol::RpcError& e) {
    if (e.code() == protocol::kInvalidParams) throw UsageError(where + ": " + e.what() + "; nothing was changed");
    throw;
  } catch (const protocol::FrameTooLarge&) {
    throw UsageError(where + " is larger than one control message (1 MiB); split it and import the parts with --merge");
  }
  print_warnings(context, result);
  if (vm.count("json")) {
    context.out << result.dump(2) << "\n";
    return kExitOk;
  }
  if (result["unchanged"].get<bool>()) {
    context.out << "unchanged: " << where << " (" << mode << ") is already the policy (" << result["rules_skipped"]
                << " rules kept with their ids); nothing was written\n";
    return kExitOk;
  }
  context.out << (dry_run ? "would import " : "imported ") << where << " (" << mode << "): " << result["rules_added"]
              << " rules added";
  if (mode == "merge") {
    context.out << ", " << result["rules_skipped"] << " already present";
  } else {
    context.out << ", " << result["rules_removed"] << " removed, " << result["rules_updated"] << " updated in place, "
                << result["rules_skipped"] << " kept";
  }
  context.out << "; " << result["quotas_set"] << " quotas set";
  if (mode == "replace") context.out << ", " << result["quotas_removed"] << " removed";
  context.out << "; " << result["settings_set"] << " settings set\n";
  print_import_changes(context.out, result);
  if (dry_run) context.out << "nothing was changed (--dry-run)\n";
  return kExitOk;
}

int policy_check(const CliContext& context, const std::vector<std::string>& args) {
  po::options_description options("Options");
  options.add_options()
      ("app", po::value<std::string>()->value_name("PATH"), "the program's full executable path (required; links are followed, as a running program's path is)")
      ("dst", po::value<std::string>()->value_name("ADDRESS"), "destination IP address (required)")
      ("port", po::value<std::string>()->value_name("PORT"), "destination port (required)")
      ("proto", po::value<std::string>()->value_name("PROTO")->default_value("tcp"), "tcp or udp")
      ("user", po::value<std::string>()->value_name("USER"), "the user running the program, a uid or a name (default: you)")
      ("json", "print the decision as JSON");
  po::variables_map vm;
  if (!parse(context, "sluicectl policy check --app PATH --dst ADDRESS --port PORT [--proto tcp|udp] [--user USER]", options,
             args, vm)) {
    return kExitOk;
  }
  for (const char* required : {"app", "dst", "port"}) {
    if (!vm.count(required)) throw UsageError(std::string("--") + required + " is required");
  }
  json params{{"app", vm["app"].as<std::string>()}, {"destination", vm["dst"].as<std::string>()},
              {"port", port_number(vm["port"].as<std::string>(), "--port")}, {"protocol", vm["proto"].as<std::string>()}};
  if (vm.count("user")) params["user"] = vm["user"].as<std::string>();
  auto client = context.connect();
  json decision;
  try {
    decision = client.call("policy.check", params);
  } catch (const protocol::RpcError& e) {
    if (e.code() == protocol::kInvalidParams) {
      throw_usage_naming_flag(e, {{"destination", "--dst"}, {"protocol", "--proto"}, {"app", "--app"}, {"user", "--user"}, {"port", "--port"}});
    }
    throw;
  }
  if (vm.count("json")) {
    context.out << decision.dump(2) << "\n";
    return kExitOk;
  }
  context.out << decision["action"].get<std::string>();
  if (decision["reason"] == "volume cap reached" || decision["reason"] == "global volume cap reached") {
    const bool global = decision["reason"] == "global volume cap reached";
    const json& cap = decision[global ? "global_cap" : "cap"];
    context.out << " (" << (global ? "global " : "") << "volume cap reached: " << size_text(cap["used"]) << " of " << size_text(cap["limit"]) << " used since "
                << cap["since"].get<std::string>() << ")";
  } else if (decision["rule_id"].is_null()) {
    context.out << " (no rule matches: the default action)";
  } else {
    context.out << " (rule " << decision["rule_id"] << " at position " << decision["rule"]["position"] << ")";
  }
  // Rules may name a user: say whom this was decided for, above all when not told.
  const json& user = decision["user"];
  context.out << " for user " << user["account"].get<std::string>();
  if (!user["uid"].is_null()) context.out << " (uid " << user["uid"] << ")";
  if (!decision.value("user_given", true)) context.out << ", you (give --user to check another)";
  context.out << "\n";
  print_resolved_program(context, decision);
  return kExitOk;
}

int settings_show(const CliContext& context, const std::vector<std::string>& args) {
  po::options_description options("Options");
  options.add_options()("json", "print the settings as JSON");
  po::variables_map vm;
  if (!parse(context, "sluicectl settings show [--json]", options, args, vm)) return kExitOk;
  auto client = context.connect();
  const json settings = client.call("settings.get")["settings"];
  if (vm.count("json")) {
    context.out << settings.dump(2) << "\n";
    return kExitOk;
  }
  Table table({"SETTING", "VALUE"});
  for (const auto& [key, value] : settings.items()) table.add_row({key, value.is_string() ? value.get<std::string>() : value.dump()});
  table.render(context.out);
  return kExitOk;
}

int settings_set(const CliContext& context, const std::vector<std::string>& args) {
  po::options_description options(
      "Settings:\n  default_action       direct, relay or block: for flows no rule matches\n"
      "  fail_mode            open or closed: what providers do when sluiced does not answer\n"
      "  provider_timeout_ms  how long providers wait for sluiced (1-60000)\n\nOptions");
  options.add_options()("json", "print the setting as stored, as JSON");
  po::variables_map vm;
  if (!parse(context, "sluicectl settings set KEY VALUE [--json]", options, args, vm, {{"key", 1}, {"value", 1}})) return kExitOk;
  auto client = context.connect();
  json stored;
  try {
    stored = client.call("settings.set", json{{"key", vm["key"].as<std::string>()}, {"value", vm["value"].as<std::string>()}});
  } catch (const protocol::RpcError& e) {
    if (e.code() == protocol::kInvalidParams) throw UsageError(e.what());
    throw;
  }
  // What the service stored: the value normalized ("BLOCK" is stored as "block").
  if (vm.count("json")) {
    context.out << stored.dump(2) << "\n";
  } else {
    const json& value = stored["value"];
    context.out << printable(stored["key"].get<std::string>()) << " = "
                << printable(value.is_string() ? value.get<std::string>() : value.dump()) << "\n";
  }
  return kExitOk;
}

}  // namespace

int policy_command(const CliContext& context, const std::vector<std::string>& args) {
  return dispatch(context, "policy",
                  {{"export", "write the whole policy as a JSON document", policy_export},
                   {"import", "apply a policy document (all or nothing)", policy_import},
                   {"check", "say what the policy does with a flow, and why", policy_check}},
                  args);
}

int settings_command(const CliContext& context, const std::vector<std::string>& args) {
  return dispatch(context, "settings",
                  {{"show", "show the service settings", settings_show}, {"set", "change a setting", settings_set}}, args);
}

}  // namespace sluice::cli
