#include <ostream>

#include "control/cli/command_support.h"
#include "control/cli/format.h"

namespace sluice::cli {

int status_command(const CliContext& context, const std::vector<std::string>& args) {
  po::options_description options("Options");
  options.add_options()("json", "print the service.status result as JSON, for scripts");
  po::variables_map vm;
  if (!parse(context, "sluicectl status [--json]\n\nShows whether sluiced is running and how it is doing.", options, args, vm)) {
    return kExitOk;
  }
  auto client = context.connect();
  const auto status = client.call("service.status");
  if (vm.count("json")) context.out << status.dump(2) << "\n";
  else context.out << format_status(status);
  return kExitOk;
}

}  // namespace sluice::cli
