// sluiced: the Sluice relay service. Parses the command line, then hands the
// service body to the platform host (daemon / console / Windows service).

#include <iostream>
#include <sstream>
#include <string>
#include <vector>

#include "common/version.h"
#include "service/process/config_check.h"
#include "service/process/host/host.h"
#include "service/process/options.h"
#include "service/process/service_app.h"

int main(int argc, char** argv) {
  using namespace sluice::service;
  std::vector<std::string> args(argv + 1, argv + argc);
  auto parsed = parse_command_line(args);
  if (auto* error = std::get_if<UsageError>(&parsed)) {
    std::istringstream problems(error->message);
    for (std::string problem; std::getline(problems, problem);) std::cerr << "sluiced: " << problem << "\n";
    std::cerr << (error->check_config ? "sluiced: configuration check failed\n" : "Try 'sluiced --help'.\n");
    return static_cast<int>(ExitCode::usage);
  }
  const CommandLine& cl = std::get<CommandLine>(parsed);
  switch (cl.action) {
    case CommandLine::Action::help:
      std::cout << help_text();
      return 0;
    case CommandLine::Action::version:
      std::cout << "sluiced " << sluice::version() << "\n";
      return 0;
    case CommandLine::Action::check_config: {
      const ExitCode code = check_configuration(cl.config, std::cout, std::cerr);
      if (code != ExitCode::ok) std::cerr << "sluiced: configuration check failed\n";
      return static_cast<int>(code);
    }
    case CommandLine::Action::service:
    case CommandLine::Action::run:
      break;
  }
  // A reload parses the same options again, so the command line keeps winning over the file.
  ConfigSource reread = [&cl]() -> std::variant<ServiceConfig, UsageError> {
    auto again = parse_command_line(cl.run_arguments);
    if (auto* error = std::get_if<UsageError>(&again)) return *error;
    return std::get<CommandLine>(again).config;
  };
  ServiceBody body = [&cl, &reread](HostContext& host) { return run_service(cl.config, host, reread); };
  ExitCode code = cl.action == CommandLine::Action::service ? service_command(cl.service_verb, cl.run_arguments, body)
                                                            : run_interactive(cl.foreground, body);
  return static_cast<int>(code);
}
