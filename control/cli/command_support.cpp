#include "control/cli/command_support.h"

#include <cctype>
#include <ostream>

#include "common/units.h"
#include "control/cli/terminal_text.h"
#include "control/protocol/paging.h"
#include "control/transport/rpc_client.h"

namespace sluice::cli {

int dispatch(const CliContext& context, const std::string& group, std::initializer_list<Subcommand> subcommands,
             const std::vector<std::string>& args) {
  auto explain = [&](std::ostream& out) {
    out << "Usage: sluicectl " << group << " COMMAND [options]\n\nCommands:\n";
    for (const auto& s : subcommands) out << "  " << s.name << std::string(10 - std::string(s.name).size(), ' ') << s.summary << "\n";
    out << "\nRun 'sluicectl " << group << " COMMAND --help' for its options.\n";
  };
  if (args.empty()) {
    context.err << "sluicectl " << group << ": which one? ";
    explain(context.err);
    return kExitUsage;
  }
  if (args[0] == "--help" || args[0] == "-h") {
    explain(context.out);
    return kExitOk;
  }
  for (const auto& s : subcommands) {
    if (args[0] != s.name) continue;
    const std::string command = group + " " + s.name;
    try {
      return s.run(context, std::vector<std::string>(args.begin() + 1, args.end()));
    } catch (const UsageError& e) {
      throw UsageError(e.what(), e.command().empty() ? command : e.command());
    } catch (const po::error& e) {
      throw UsageError(e.what(), command);
    }
  }
  throw UsageError("unknown command '" + args[0] + "'");
}

namespace {

// "-1" is a (bad) value, not an option: it reaches the positional arguments, where
// the command can name it ("provider_timeout_ms: '-1' is not ..."), instead of
// Boost's "unrecognised option '-1'". Values of options (--limit -1) are unaffected.
std::vector<po::option> negative_numbers_are_words(std::vector<std::string>& rest) {
  const std::string& word = rest.front();
  if (word.size() < 2 || word[0] != '-' || !std::isdigit(static_cast<unsigned char>(word[1]))) return {};
  po::option positional;  // an empty key makes it positional
  positional.value.push_back(word);
  positional.original_tokens.push_back(word);
  rest.erase(rest.begin());
  return {positional};
}

}  // namespace

bool parse(const CliContext& context, const std::string& usage, po::options_description options,
           const std::vector<std::string>& args, po::variables_map& vm,
           std::initializer_list<std::pair<const char*, int>> positional) {
  options.add_options()("help,h", "show this help");
  po::options_description all;
  all.add(options);
  po::positional_options_description pos;
  for (const auto& [name, count] : positional) {
    all.add_options()(name, po::value<std::string>(), "");
    pos.add(name, count);
  }
  // Words beyond the expected ones land here, so the error can name them (Boost's
  // own "too many positional options" does not say which).
  constexpr const char* kExtra = "unexpected-words";
  all.add_options()(kExtra, po::value<std::vector<std::string>>(), "");
  pos.add(kExtra, -1);
  po::store(po::command_line_parser(args).options(all).positional(pos).extra_style_parser(negative_numbers_are_words).run(), vm);
  if (vm.count("help")) {
    context.out << "Usage: " << usage << "\n\n" << options;
    return false;
  }
  if (vm.count(kExtra)) {
    throw UsageError("unexpected argument '" + vm[kExtra].as<std::vector<std::string>>().front() + "' (usage: " +
                     usage.substr(0, usage.find('\n')) + ")");
  }
  po::notify(vm);
  for (const auto& [name, count] : positional) {
    std::string shown = name;
    for (auto& c : shown) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
    if (!vm.count(name)) throw UsageError("missing " + shown + " (usage: " + usage.substr(0, usage.find('\n')) + ")");
  }
  return true;
}

std::string rate_text(const json& value, const json& unit) {
  if (!value.is_number()) return "-";
  return unit.is_string() ? units::format_rate_in(value.get<std::uint64_t>(), unit.get<std::string>())
                          : units::format_rate(value.get<std::uint64_t>());
}

std::string size_text(const json& value, const json& unit) {
  if (!value.is_number()) return "-";
  return unit.is_string() ? units::format_size_in(value.get<std::uint64_t>(), unit.get<std::string>())
                          : units::format_size(value.get<std::uint64_t>());
}

json unit_of(const json& owner, const char* key) {
  if (!owner.is_object() || !owner.contains("units") || !owner["units"].is_object()) return nullptr;
  const json& units = owner["units"];
  return units.contains(key) ? units[key] : json();
}

std::string list_text(const json& list, const std::string& empty) {
  if (!list.is_array() || list.empty()) return empty;
  std::string out;
  for (const auto& item : list) {
    if (!out.empty()) out += ",";
    out += item.is_string() ? item.get<std::string>() : item.dump();
  }
  return out;
}

// Every rule, paging rule.list; restarts if the policy changes between pages.
json all_pages(transport::RpcClient& client, const std::string& method, json params, const std::string& list,
               const std::string& cursor) {
  return protocol::collect_pages([&](const json& page_params) { return client.call(method, page_params); }, std::move(params),
                                 list, cursor);
}

json fetch_all_rules(transport::RpcClient& client, std::optional<std::uint64_t> generation) {
  for (int attempt = 0; attempt < 5; ++attempt) {
    json rules = json::array();
    json page = client.call("rule.list", json{{"offset", 0}});
    if (generation && page["generation"] != *generation) break;
    const auto page_generation = page["generation"];
    const auto total = page["total"].get<std::size_t>();
    for (auto& r : page["rules"]) rules.push_back(std::move(r));
    while (rules.size() < total) {
      page = client.call("rule.list", json{{"offset", rules.size()}});
      if (page["generation"] != page_generation || page["rules"].empty()) break;
      for (auto& r : page["rules"]) rules.push_back(std::move(r));
    }
    if (rules.size() == total && page["generation"] == page_generation) return rules;
  }
  throw protocol::RpcError(protocol::kConflict, "the rules kept changing while being listed; try again");
}

std::int64_t positive_integer(const std::string& text, const std::string& what) {
  std::size_t used = 0;
  long long value = 0;
  try {
    value = std::stoll(text, &used);
  } catch (const std::exception&) {
    used = 0;
  }
  if (used == 0 || used != text.size() || value < 1) throw UsageError(what + ": '" + text + "' is not a positive whole number");
  return value;
}

std::int64_t port_number(const std::string& text, const std::string& what) {
  std::int64_t port = 0;
  try {
    port = positive_integer(text, what);
  } catch (const UsageError&) {
    port = 0;
  }
  if (port < 1 || port > 65535) throw UsageError(what + ": '" + text + "' is not a port (1-65535)");
  return port;
}

void throw_usage_naming_flag(const protocol::RpcError& error, std::initializer_list<std::pair<const char*, const char*>> flags) {
  std::string message = error.what();
  const std::string field =
      error.data().is_object() && error.data().contains("field") && error.data()["field"].is_string() ? error.data()["field"].get<std::string>() : "";
  for (const auto& [prefix, flag] : flags) {
    if (!field.starts_with(prefix)) continue;
    // "rule.destinations[1]: '10.0.0.300/8' is not ..." becomes "--dst: '10.0.0.300/8' is not ...".
    if (message.starts_with(field + ": ")) message = std::string(flag) + message.substr(field.size());
    else message = std::string(flag) + ": " + message;
    break;
  }
  throw UsageError(message);
}

std::string rule_rate_text(const json& rate, const json& units) {
  if (rate["up"].is_null() && rate["down"].is_null()) return "-";
  const json owner{{"units", units}};
  return "up " + rate_text(rate["up"], unit_of(owner, "rate.up")) + ", down " + rate_text(rate["down"], unit_of(owner, "rate.down"));
}

// One rule on one line, for what an edit, a dry run or an import changes.
std::string rule_line(const json& r) {
  std::string line = r["action"].get<std::string>() + " " + r["protocol"].get<std::string>() +
                     " app " + r["app"].get<std::string>() +
                     " user " + (r["user"].is_null() ? "any" : r["user"].get<std::string>()) +
                     " dst " + list_text(r["destinations"], "any") + " port " + list_text(r["ports"], "any");
  if (!r["rate"]["up"].is_null() || !r["rate"]["down"].is_null()) line += " rate " + rule_rate_text(r["rate"], r.value("units", json::object()));
  if (!r["enabled"].get<bool>()) line += " (disabled)";
  if (!r["comment"].get<std::string>().empty()) line += " \"" + r["comment"].get<std::string>() + "\"";
  return printable(line);
}

}  // namespace sluice::cli

namespace sluice::cli {

void print_warnings(const CliContext& context, const json& answer) {
  if (!answer.contains("warnings") || !answer["warnings"].is_array()) return;
  for (const auto& w : answer["warnings"]) context.err << "warning: " << printable(w.get<std::string>()) << "\n";
}

void print_resolved_program(const CliContext& context, const json& answer) {
  if (!answer.contains("typed_app") || !answer["typed_app"].is_string() || !answer["app"].is_string()) return;
  if (answer["typed_app"] == answer["app"]) return;
  context.out << "program: " << printable(answer["app"].get<std::string>()) << " (typed "
              << printable(answer["typed_app"].get<std::string>()) << "; the path the system reports for it)\n";
}

void add_strict_option(po::options_description& options) {
  options.add_options()("strict", "refuse the change (changing nothing) if it would draw a warning (a setting that does nothing)");
}

}  // namespace sluice::cli
