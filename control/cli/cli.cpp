#include "control/cli/cli.h"

#include <boost/program_options.hpp>

#include <algorithm>
#include <iostream>
#include <sstream>

#include "common/platform/platform.h"
#include "common/version.h"

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
      << "\nRun 'sluicectl COMMAND --help' for a command's own options.\n"
         "Exit status: 0 success, 1 the service is unreachable or refused, 2 bad usage.\n";
  return out.str();
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
    if (e.kind() == transport::ErrorKind::untrusted) {  // the message names the pipe, its server and why
      err << "sluicectl: " << e.what() << "\n";
      return kExitFailure;
    }
    err << "sluicectl: cannot reach sluiced at " << endpoint << ": " << e.what();
    if (e.kind() == transport::ErrorKind::not_running) err << " (is the service running?)";
    err << "\n";
    return kExitFailure;
  } catch (const CommandFailed& e) {
    err << "sluicectl " << name << ": " << e.what() << "\n";
    return kExitFailure;
  } catch (const protocol::RpcError& e) {
    err << "sluicectl " << name << ": " << e.what() << "\n";
    return e.code() == protocol::kInvalidParams ? kExitUsage : kExitFailure;
  }
}

}  // namespace sluice::cli
