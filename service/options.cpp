#include "service/options.h"

#include <boost/program_options.hpp>

#include <algorithm>
#include <filesystem>
#include <sstream>

#include "common/logging.h"
#include "common/platform/platform.h"

namespace sluice::service {
namespace po = boost::program_options;
namespace {

po::options_description visible_options() {
  po::options_description options("Options");
  options.add_options()
      ("state-dir", po::value<std::string>()->value_name("DIR"),
       ("where the database (sluice.db) and the log (sluiced.log) live [default: " + platform::default_state_dir() +
        "]").c_str())
      ("control", po::value<std::string>()->value_name("ENDPOINT"),
       ("control endpoint: a Unix socket path, or a pipe name on Windows [default: $SLUICE_CONTROL, else " +
        platform::default_control_endpoint() + "]").c_str())
      ("flush-interval", po::value<double>()->value_name("SECONDS")->default_value(5.0, "5"),
       "how often usage counters are written to the database (also at shutdown)")
      ("foreground", "stay in the foreground and log to stderr too (Linux; for systemd and debugging)")
      ("log-level", po::value<std::string>()->value_name("LEVEL")->default_value("info"),
       "trace, debug, info, warn, error, critical or off")
      ("help,h", "show this help and exit")
      ("version", "show the version and exit");
  return options;
}

std::string absolute(const std::string& path) {
  std::error_code ec;
  auto p = std::filesystem::absolute(path, ec);
  return ec ? path : p.lexically_normal().string();
}

}  // namespace

std::string help_text() {
  std::ostringstream out;
  out << "Usage: sluiced [options]\n"
         "       sluiced service install|uninstall|start|stop|run [options]\n\n"
         "sluiced is the Sluice relay service: it holds the egress policy and quotas,\n"
         "answers sluicectl and the providers on the control endpoint, and relays\n"
         "steered traffic.\n\n"
         "Without a command it runs as a daemon (it returns once it accepts clients), or\n"
         "in the foreground with --foreground. On Windows, 'service install' registers it\n"
         "with the service control manager, with the options given, and 'service\n"
         "start|stop' start it and wait until it runs or has stopped.\n\n"
      << visible_options()
      << "\nExit status: 0 stopped cleanly, 2 bad command line, 3 state directory,\n"
         "4 database, 5 control endpoint, 6 already running, 7 service manager, 8 log file.\n";
  return out.str();
}

std::variant<CommandLine, UsageError> parse_command_line(const std::vector<std::string>& args) {
  po::options_description all = visible_options();
  all.add_options()("command", po::value<std::vector<std::string>>(), "");
  po::positional_options_description positional;
  positional.add("command", -1);

  po::variables_map vm;
  try {
    po::store(po::command_line_parser(args).options(all).positional(positional).run(), vm);
    po::notify(vm);
  } catch (const po::error& e) {
    return UsageError{e.what()};
  }

  CommandLine cl;
  if (vm.count("help")) {
    cl.action = CommandLine::Action::help;
    return cl;
  }
  if (vm.count("version")) {
    cl.action = CommandLine::Action::version;
    return cl;
  }

  if (vm.count("command")) {
    const auto& words = vm["command"].as<std::vector<std::string>>();
    if (words[0] != "service") return UsageError{"unknown command '" + words[0] + "' (the only command is 'service')"};
    if (words.size() != 2) return UsageError{"'service' takes one of install, uninstall, start, stop, run"};
    static const char* kVerbs[] = {"install", "uninstall", "start", "stop", "run"};
    if (std::find(std::begin(kVerbs), std::end(kVerbs), words[1]) == std::end(kVerbs)) {
      return UsageError{"unknown service command '" + words[1] + "' (use install, uninstall, start, stop or run)"};
    }
    cl.action = CommandLine::Action::service;
    cl.service_verb = words[1];
  }

  cl.foreground = vm.count("foreground") > 0;
  const std::string level = vm["log-level"].as<std::string>();
  auto parsed_level = parse_log_level(level);
  if (!parsed_level) {
    return UsageError{"--log-level: '" + level + "' is not one of trace, debug, info, warn, error, critical, off"};
  }
  cl.config.log_level = *parsed_level;

  const double flush_seconds = vm["flush-interval"].as<double>();
  if (!(flush_seconds >= 0.1 && flush_seconds <= 3600)) {
    return UsageError{"--flush-interval: '" + std::to_string(flush_seconds) + "' is not between 0.1 and 3600 seconds"};
  }
  cl.config.flush_interval = std::chrono::milliseconds(static_cast<long long>(flush_seconds * 1000));

  cl.config.state_dir = vm.count("state-dir") ? vm["state-dir"].as<std::string>() : platform::default_state_dir();
  if (cl.config.state_dir.empty()) return UsageError{"--state-dir: the directory name is empty"};
  cl.config.state_dir = absolute(cl.config.state_dir);

  if (vm.count("control")) cl.config.control_endpoint = vm["control"].as<std::string>();
  else if (auto env = platform::environment("SLUICE_CONTROL"); !env.empty()) cl.config.control_endpoint = env;
  else cl.config.control_endpoint = platform::default_control_endpoint();
  if (cl.config.control_endpoint.empty()) return UsageError{"--control: the endpoint is empty"};
  // A daemon changes directory, so a relative socket path is made absolute; pipe
  // names (\\.\pipe\...) are left alone.
  if (!cl.config.control_endpoint.starts_with("\\\\")) cl.config.control_endpoint = absolute(cl.config.control_endpoint);

  // An installed service starts in another working directory and environment, so
  // it gets every setting spelled out, with absolute paths.
  cl.run_arguments = {"--state-dir", cl.config.state_dir, "--control", cl.config.control_endpoint, "--log-level", level,
                      "--flush-interval", std::to_string(flush_seconds)};
  return cl;
}

}  // namespace sluice::service
