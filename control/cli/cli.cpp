#include "control/cli/cli.h"

#include <boost/program_options.hpp>

#include <algorithm>
#include <iostream>
#include <sstream>

#include "common/platform/platform.h"
#include "common/version.h"
#include "control/cli/fix_hints.h"
#include "control/cli/terminal_text.h"

namespace sluice::cli {
namespace po = boost::program_options;
namespace {

struct Command {
  const char* name;
  const char* summary;
  int (*run)(const CliContext&, const std::vector<std::string>&);
};

const Command kCommands[] = {
    {"status", "show whether sluiced is running: version, uptime, endpoint, database", status_command},
    {"rule", "add, edit, list, show, remove, enable, disable and move policy rules", rule_command},
    {"quota", "set, show and clear bandwidth quotas", quota_command},
    {"usage", "show traffic counted per program", usage_command},
    {"policy", "export, import and check the whole policy", policy_command},
    {"settings", "show and change service settings (default action, fail mode)", settings_command},
    {"audit", "show who changed what", audit_command},
    {"flows", "list relayed flows: program, destination, bytes, rate", flows_command},
    {"stats", "show data-plane totals and per-program counters", stats_command},
    {"top", "watch per-program rates, refreshed", top_command},
    {"provider", "install, remove and check the provider that steers every program", provider_command},
    {"service", "apply an edited configuration file (reload)", service_command},
};

po::options_description global_options() {
  po::options_description options("Global options");
  options.add_options()
      ("control", po::value<std::string>()->value_name("ENDPOINT"),
       ("where sluiced listens [default: $SLUICE_CONTROL, else " + platform::client_control_endpoint() + "]").c_str())
      ("timeout", po::value<int>()->value_name("MS")->default_value(5000), "how long to wait for sluiced, in milliseconds")
      ("help,h", "show this help")
      ("version", "show the version");
  return options;
}

std::string usage() {
  std::ostringstream out;
  out << "Usage: sluicectl [global options] COMMAND [options]\n\n"
         "Administers the Sluice relay service (sluiced) over its control endpoint.\n\n"
         "Commands:\n";
  for (const auto& c : kCommands) out << "  " << c.name << std::string(10 - std::string(c.name).size(), ' ') << c.summary << "\n";
  out << "\n" << global_options()
      << "\nRun 'sluicectl COMMAND --help' for a command's own options. Every command\n"
         "takes --json; errors go to standard error.\n\nExit status (the same with or without --json):\n";
  for (const auto& row : kExitStatuses) out << "  " << static_cast<int>(row.status) << "  " << row.meaning << "\n";
  return out.str();
}


// Why sluiced could not be reached, and what to do about it: exit 3, or 4 when the
// OS refused this user the endpoint (the fix is then the administrator's).
int report_transport_error(std::ostream& err, const std::string& endpoint, int timeout_ms, const transport::TransportError& e) {
  using transport::ErrorKind;
  if (e.kind() == ErrorKind::untrusted) {  // the message names the endpoint, who holds it and why
    err << "sluicectl: " << e.what() << "\n";
    return kExitUnreachable;
  }
  err << "sluicectl: cannot reach sluiced at " << endpoint << ": " << e.what();
  switch (e.kind()) {
    case ErrorKind::access_denied:
      err << " (you may not open it: " << how_to_become_administrator() << ")\n";
      return kExitRefused;
    case ErrorKind::timed_out:
      err << " (no answer within " << timeout_ms << " ms: raise --timeout, or see sluiced's log)\n";
      return kExitUnreachable;
    case ErrorKind::not_running:
      err << " (is the service running? " << how_to_start_service() << ")\n";
      return kExitUnreachable;
    default:
      err << " (" << how_to_start_service() << ")\n";
      return kExitUnreachable;
  }
}

// "rule show" for `sluicectl rule show 99`: the group and its subcommand, as typed.
std::string full_name(const std::string& command, const std::vector<std::string>& rest) {
  if (rest.empty() || rest[0].starts_with("-")) return command;
  for (const char c : rest[0]) {
    if (!(c >= 'a' && c <= 'z')) return command;  // a value (an id), not a subcommand
  }
  return command + " " + rest[0];
}

// What a refused change was, in the user's terms: the command group, never the method.
std::string what_needs_an_administrator(const std::string& command) {
  if (command == "service") return "reloading sluiced's configuration";
  if (command == "rule" || command == "quota" || command == "policy" || command == "settings") return "changing the policy";
  return "this";
}

// Where to look for what does exist, after "not found".
std::string where_to_look(const std::string& command) {
  if (command == "rule") return "; 'sluicectl rule list' shows the rules and their ids";
  if (command == "quota") return "; 'sluicectl quota show' lists the quotas";
  return "";
}

// The service turned the request down: its words (they name fields and values, never
// methods) with what to do, and the exit status for the kind of refusal. `command` is
// the group (for the hints), `shown` what the user typed ("rule show").
int report_service_error(std::ostream& err, const std::string& command, const std::string& shown, const protocol::RpcError& e) {
  err << "sluicectl " << shown << ": ";
  switch (e.code()) {
    case protocol::kPermissionDenied: {
      const protocol::json& data = e.data();
      const std::string account = data.is_object() && data.contains("account") && data["account"].is_string()
                                      ? data["account"].get<std::string>()
                                      : "";
      err << what_needs_an_administrator(command) << " needs an administrator"
          << (account.empty() ? std::string() : " ('" + printable(account) + "' is not one)") << ": "
          << how_to_become_administrator() << "\n";
      return kExitRefused;
    }
    case protocol::kNotFound:
      err << e.what() << where_to_look(command) << "\n";
      return kExitNotFound;
    case protocol::kInvalidParams:
      err << e.what() << "\nTry 'sluicectl " << shown << " --help'.\n";
      return kExitUsage;
    case protocol::kMethodNotFound:
      err << "this sluiced does not offer this command: it is older than sluicectl " << version()
          << "; upgrade sluiced (see 'sluicectl status')\n";
      return kExitFailure;
    case protocol::kInternalError:
      err << e.what() << " (see sluiced's log for the details)\n";
      return kExitFailure;
    default:
      err << e.what() << "\n";
      return kExitFailure;
  }
}
}  // namespace

transport::RpcClient CliContext::connect() const {
  return transport::RpcClient(endpoint, timeout, std::string("sluicectl/") + version());
}

int run_cli(const std::vector<std::string>& args, std::ostream& out, std::ostream& err) {
  // Global options are the ones before the command word; the rest is the command's.
  std::size_t command_index = 0;
  while (command_index < args.size() && args[command_index].starts_with("-")) {
    const std::string& word = args[command_index];
    const bool takes_value = (word == "--control" || word == "--timeout");
    command_index += takes_value ? 2 : 1;
  }
  command_index = std::min(command_index, args.size());
  const std::vector<std::string> global_args(args.begin(), args.begin() + static_cast<std::ptrdiff_t>(command_index));
  const std::vector<std::string> command_args(args.begin() + static_cast<std::ptrdiff_t>(command_index), args.end());

  po::variables_map vm;
  try {
    po::store(po::command_line_parser(global_args).options(global_options()).run(), vm);
    po::notify(vm);
  } catch (const po::error& e) {
    err << "sluicectl: " << e.what() << "\nTry 'sluicectl --help'.\n";
    return kExitUsage;
  }
  if (vm.count("help")) {
    out << usage();
    return kExitOk;
  }
  if (vm.count("version")) {
    out << "sluicectl " << version() << "\n";
    return kExitOk;
  }
  if (command_args.empty()) {
    err << "sluicectl: no command given\n\n" << usage();
    return kExitUsage;
  }

  const int timeout_ms = vm["timeout"].as<int>();
  if (timeout_ms <= 0) {
    err << "sluicectl: --timeout: '" << timeout_ms << "' must be a positive number of milliseconds\n";
    return kExitUsage;
  }
  std::string endpoint;
  if (vm.count("control")) endpoint = vm["control"].as<std::string>();
  else if (auto env = platform::environment("SLUICE_CONTROL"); !env.empty()) endpoint = env;
  else endpoint = platform::client_control_endpoint();

  const std::string& name = command_args[0];
  const auto* command = std::find_if(std::begin(kCommands), std::end(kCommands), [&](const Command& c) { return name == c.name; });
  if (command == std::end(kCommands)) {
    err << "sluicectl: unknown command '" << name << "'\nTry 'sluicectl --help'.\n";
    return kExitUsage;
  }

  CliContext context{endpoint, std::chrono::milliseconds(timeout_ms), out, err};
  const std::vector<std::string> rest(command_args.begin() + 1, command_args.end());
  try {
    return command->run(context, rest);
  } catch (const UsageError& e) {
    const std::string command = e.command().empty() ? name : e.command();
    err << "sluicectl " << command << ": " << e.what() << "\nTry 'sluicectl " << command << " --help'.\n";
    return kExitUsage;
  } catch (const po::error& e) {
    err << "sluicectl " << name << ": " << e.what() << "\nTry 'sluicectl " << name << " --help'.\n";
    return kExitUsage;
  } catch (const transport::TransportError& e) {
    return report_transport_error(err, endpoint, timeout_ms, e);
  } catch (const CommandFailed& e) {
    err << "sluicectl " << full_name(name, rest) << ": " << e.what() << "\n";
    return e.status();
  } catch (const protocol::RpcError& e) {
    return report_service_error(err, name, full_name(name, rest), e);
  }
}

}  // namespace sluice::cli
