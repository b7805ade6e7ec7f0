// sluicectl usage show, sluicectl audit show
#include <ostream>

#include "control/cli/command_support.h"
#include "control/cli/table.h"

namespace sluice::cli {
namespace {

int usage_show(const CliContext& context, const std::vector<std::string>& args) {
  po::options_description options("Options");
  options.add_options()
      ("app", po::value<std::string>()->value_name("PATH"), "only this program")
      ("since", po::value<std::string>()->value_name("DATE"), "from this UTC day on (YYYY-MM-DD)")
      ("by-day", "one row per program and day")
      ("json", "print the usage as JSON");
  po::variables_map vm;
  if (!parse(context, "sluicectl usage show [--app PATH] [--since DATE] [--by-day] [--json]", options, args, vm)) return kExitOk;
  json params{{"by_day", vm.count("by-day") > 0}};
  if (vm.count("app")) params["app"] = vm["app"].as<std::string>();
  if (vm.count("since")) params["since"] = vm["since"].as<std::string>();
  auto client = context.connect();
  json usage;
  try {
    usage = all_pages(client, "usage.show", params, "usage", "offset")["usage"];
  } catch (const protocol::RpcError& e) {
    if (e.code() == protocol::kInvalidParams) throw_usage_naming_flag(e, {{"since", "--since"}, {"app", "--app"}});
    throw;
  }
  if (vm.count("json")) {
    context.out << usage.dump(2) << "\n";
    return kExitOk;
  }
  if (usage.empty()) {
    context.out << "no traffic counted" << (vm.count("since") ? " since " + vm["since"].as<std::string>() : std::string()) << "\n";
    return kExitOk;
  }
  const bool by_day = vm.count("by-day") > 0;
  Table table({"APPLICATION", by_day ? "DAY" : "SINCE", "SENT", "RECEIVED", "PACKETS", "DROPPED"}, {false, false, true, true, true, true});
  for (const auto& row : usage) {
    table.add_row({row["app"], by_day ? row["day"] : row["since"], size_text(row["bytes_up"]), size_text(row["bytes_down"]),
                   std::to_string(row["packets_up"].get<std::uint64_t>() + row["packets_down"].get<std::uint64_t>()),
                   std::to_string(row["dropped"].get<std::uint64_t>())});
  }
  table.render(context.out);
  return kExitOk;
}

int audit_show(const CliContext& context, const std::vector<std::string>& args) {
  po::options_description options("Options");
  options.add_options()
      ("limit", po::value<std::string>()->value_name("N")->default_value("50"), "at most N entries, newest first")
      ("since", po::value<std::string>()->value_name("DATE"), "from this UTC day on (YYYY-MM-DD)")
      ("json", "print the entries as JSON");
  po::variables_map vm;
  if (!parse(context, "sluicectl audit show [--limit N] [--since DATE] [--json]", options, args, vm)) return kExitOk;
  json params{{"limit", positive_integer(vm["limit"].as<std::string>(), "--limit")}};
  if (vm.count("since")) params["since"] = vm["since"].as<std::string>();
  auto client = context.connect();
  json entries;
  try {
    entries = client.call("audit.list", params)["entries"];
  } catch (const protocol::RpcError& e) {
    if (e.code() == protocol::kInvalidParams) throw_usage_naming_flag(e, {{"since", "--since"}, {"limit", "--limit"}});
    throw;
  }
  if (vm.count("json")) {
    context.out << entries.dump(2) << "\n";
    return kExitOk;
  }
  if (entries.empty()) {
    context.out << "no changes recorded\n";
    return kExitOk;
  }
  Table table({"WHEN", "WHO", "PID", "ACTION", "DETAIL"});
  for (const auto& e : entries) {
    table.add_row({e["at"], e["account"].get<std::string>().empty() ? "?" : e["account"].get<std::string>(),
                   e["pid"].is_null() ? "-" : std::to_string(e["pid"].get<std::int64_t>()), e["action"], e["detail"].dump()});
  }
  table.render(context.out);
  return kExitOk;
}

}  // namespace

int usage_command(const CliContext& context, const std::vector<std::string>& args) {
  return dispatch(context, "usage", {{"show", "traffic counted per program", usage_show}}, args);
}

int audit_command(const CliContext& context, const std::vector<std::string>& args) {
  return dispatch(context, "audit", {{"show", "who changed what, newest first", audit_show}}, args);
}

}  // namespace sluice::cli
