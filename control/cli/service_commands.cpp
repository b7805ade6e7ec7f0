// sluicectl service reload: applies an edited sluiced.conf without a restart.
#include <ostream>

#include "control/cli/command_support.h"

namespace sluice::cli {
namespace {

int service_reload(const CliContext& context, const std::vector<std::string>& args) {
  po::options_description options("Options");
  options.add_options()("json", "print what changed as JSON");
  po::variables_map vm;
  if (!parse(context,
             "sluicectl service reload [--json]\n\n"
             "Makes sluiced read its configuration file (sluiced --config FILE) again and\n"
             "apply it: log-level, flush-interval and metrics-listen take effect at once and\n"
             "no flow is dropped; state-dir and control are reported as waiting for a\n"
             "restart. A file with an error is refused as a whole, naming the line and key,\n"
             "and the running settings stay as they were. Needs an administrator.",
             options, args, vm)) {
    return kExitOk;
  }
  auto client = context.connect();
  const json report = client.call("service.reload");
  if (vm.count("json")) {
    context.out << report.dump(2) << "\n";
    return kExitOk;
  }
  context.out << "reloaded " << report["config_file"].get<std::string>() << "\n"
              << "applied: " << list_text(report["applied"], "nothing changed") << "\n";
  if (!report["restart_required"].empty()) {
    context.out << "changed, but waiting for a restart of sluiced: " << list_text(report["restart_required"], "") << "\n";
  }
  return kExitOk;
}

}  // namespace

int service_command(const CliContext& context, const std::vector<std::string>& args) {
  return dispatch(context, "service", {{"reload", "apply an edited sluiced.conf without a restart", service_reload}},
                  args);
}

}  // namespace sluice::cli
