#include <boost/program_options.hpp>

#include <ostream>

#include "control/cli/cli.h"
#include "control/cli/format.h"

namespace sluice::cli {
namespace po = boost::program_options;

int status_command(const CliContext& context, const std::vector<std::string>& args) {
  po::options_description options("Usage: sluicectl status [--json]\n\nShows whether sluiced is running and how it is doing.\n\nOptions");
  options.add_options()("json", "print the service.status result as JSON, for scripts")("help,h", "show this help");
  po::variables_map vm;
  po::store(po::command_line_parser(args).options(options).run(), vm);
  if (vm.count("help")) {
    context.out << options;
    return kExitOk;
  }
  auto client = context.connect();
  const auto status = client.call("service.status");
  if (vm.count("json")) context.out << status.dump(2) << "\n";
  else context.out << format_status(status);
  return kExitOk;
}

}  // namespace sluice::cli
