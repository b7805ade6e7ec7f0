#include "service/process/options.h"

#include <boost/program_options.hpp>

#include <algorithm>
#include <charconv>
#include <filesystem>
#include <fstream>
#include <map>
#include <set>
#include <sstream>

#include "common/logging.h"
#include "common/platform/platform.h"
#include "service/metrics/metrics_server.h"

namespace sluice::service {
namespace po = boost::program_options;
namespace {

// The settings: flags on the command line and keys in sluiced.conf alike.
po::options_description setting_options() {
  po::options_description options("Settings (also keys of the --config file)");
  options.add_options()
      ("state-dir", po::value<std::string>()->value_name("DIR"),
       ("where the database (sluice.db) and the log (sluiced.log) live [default: " + platform::default_state_dir() +
        "]").c_str())
      ("control", po::value<std::string>()->value_name("ENDPOINT"),
       ("control endpoint: a Unix socket path, or a pipe name on Windows [default: $SLUICE_CONTROL, else " +
        platform::default_control_endpoint() + "]").c_str())
      ("flush-interval", po::value<std::string>()->value_name("SECONDS")->default_value("5"),
       "how often usage counters are written to the database (also at shutdown), 0.1 to 3600")
      ("log-level", po::value<std::string>()->value_name("LEVEL")->default_value("info"),
       "trace, debug, info, warn, error, critical or off")
      ("metrics-listen", po::value<std::string>()->value_name("ADDRESS:PORT")->default_value(""),
       "serve Prometheus metrics at http://ADDRESS:PORT/metrics, loopback only (127.0.0.1:9464, [::1]:9464) "
       "[default: off]");
  const UserFlowLimits defaults;
  for (const FlowLimitSetting& setting : kFlowLimitSettings) {
    const std::string default_value = setting.count ? std::to_string(defaults.*setting.count)
                                                    : (defaults.*setting.flag ? "true" : "false");
    const std::string help = setting.count ? std::string(setting.help) + ", " + std::to_string(setting.minimum) + " to " +
                                                 std::to_string(setting.maximum)
                                           : std::string(setting.help);
    options.add_options()(setting.key, po::value<std::string>()->value_name(setting.value_name)->default_value(default_value),
                          help.c_str());
  }
  return options;
}

po::options_description command_line_options() {
  po::options_description options("Options");
  options.add_options()
      ("config", po::value<std::string>()->value_name("FILE"),
       "read settings from this file (key = value lines, see packaging/sluiced.conf); flags win over it")
      ("foreground", "stay in the foreground and log to stderr too (Linux; for systemd and debugging)")
      ("check-config", "check the configuration as a start would read it, and exit: binds nothing, takes no lock, "
                       "changes no file (exit status below)")
      ("help,h", "show this help and exit")
      ("version", "show the version and exit");
  return options;
}

std::string absolute(const std::string& path) {
  std::error_code ec;
  auto p = std::filesystem::absolute(path, ec);
  return ec ? path : p.lexically_normal().string();
}

std::string trim(std::string_view text) {
  const auto first = text.find_first_not_of(" \t\r");
  if (first == std::string_view::npos) return {};
  const auto last = text.find_last_not_of(" \t\r");
  return std::string(text.substr(first, last - first + 1));
}

// One `key = value` line of sluiced.conf. The file is read here, not by Boost's
// parse_config_file, which stops at its first bad line: --check-config reports them all.
struct FileSetting {
  std::string key;
  std::string value;
  int line;
};

struct ConfigFile {
  std::vector<FileSetting> settings;
  std::vector<std::string> problems;  // lines that are not `key = value`
};

// The syntax Boost's config files have: `#` starts a comment, `[name]` prefixes the
// keys after it with "name." (sluiced has no such keys, so they are reported unknown).
ConfigFile read_config_file(const std::string& path, const std::string& text) {
  ConfigFile file;
  std::istringstream lines(text);
  std::string raw;
  std::string section;
  for (int number = 1; std::getline(lines, raw); ++number) {
    const std::string line = trim(raw.substr(0, raw.find('#')));
    if (line.empty()) continue;
    if (line.front() == '[' && line.back() == ']') {
      section = trim(std::string_view(line).substr(1, line.size() - 2));
      if (!section.empty()) section += ".";
      continue;
    }
    const auto equals = line.find('=');
    if (equals == std::string::npos) {
      file.problems.push_back(path + ":" + std::to_string(number) + ": '" + line + "' is not 'key = value'");
      continue;
    }
    file.settings.push_back({section + trim(std::string_view(line).substr(0, equals)),
                             trim(std::string_view(line).substr(equals + 1)), number});
  }
  return file;
}

// Where each setting came from, so that an error names what the user must change:
// "--log-level" or "/etc/sluice/sluiced.conf:12: log-level".
class Origins {
 public:
  void from_command_line(const po::variables_map& vm) {
    for (const auto& [key, value] : vm) {
      if (!value.defaulted()) command_line_.insert(key);
    }
  }

  void from_file(std::string path, const ConfigFile& file) {
    file_ = std::move(path);
    for (const FileSetting& setting : file.settings) line_of_.emplace(setting.key, setting.line);
  }

  bool on_command_line(const std::string& key) const { return command_line_.count(key) > 0; }

  std::string name(const std::string& key) const {
    if (on_command_line(key) || file_.empty()) return "--" + key;
    auto line = line_of_.find(key);
    return file_ + ":" + (line == line_of_.end() ? std::string() : std::to_string(line->second) + ":") + " " + key;
  }

 private:
  std::set<std::string> command_line_;
  std::string file_;
  std::map<std::string, int> line_of_;
};

}  // namespace

std::string help_text() {
  std::ostringstream out;
  out << "Usage: sluiced [options]\n"
         "       sluiced service install|uninstall|start|stop|reload|run [options]\n\n"
         "sluiced is the Sluice relay service: it holds the egress policy and quotas,\n"
         "answers sluicectl and the providers on the control endpoint, and relays\n"
         "steered traffic.\n\n"
         "Without a command it runs as a daemon (it returns once it accepts clients), or\n"
         "in the foreground with --foreground. On Windows, 'service install' registers it\n"
         "with the service control manager, with the options given, 'service\n"
         "start|stop' start it and wait until it runs or has stopped, and 'service\n"
         "reload' sends it SERVICE_CONTROL_PARAMCHANGE.\n\n"
         "Settings come from the command line, else from the --config file, else from\n"
         "the defaults below. 'sluicectl service reload' (or SIGHUP, or systemctl reload)\n"
         "reads the file again and applies log-level, flush-interval and metrics-listen\n"
         "at once; state-dir and control wait for a restart.\n\n"
      << command_line_options() << "\n"
      << setting_options()
      << "\nExit status: 0 stopped cleanly, 2 bad command line or configuration, 3 state\n"
         "directory, 4 database, 5 control endpoint, 6 already running, 7 service manager,\n"
         "8 log file, 9 metrics listener. --check-config exits 0 when a start would get\n"
         "past the configuration, else 2, 3 or 4 as a start would.\n";
  return out.str();
}

std::variant<CommandLine, UsageError> parse_command_line(const std::vector<std::string>& args) {
  po::options_description all = command_line_options();
  all.add(setting_options());
  all.add_options()("command", po::value<std::vector<std::string>>(), "");
  po::positional_options_description positional;
  positional.add("command", -1);

  po::variables_map vm;
  Origins origins;
  try {
    po::store(po::command_line_parser(args).options(all).positional(positional).run(), vm);
  } catch (const po::error& e) {
    return UsageError{e.what()};
  }
  origins.from_command_line(vm);

  CommandLine cl;
  if (vm.count("help")) {
    cl.action = CommandLine::Action::help;
    return cl;
  }
  if (vm.count("version")) {
    cl.action = CommandLine::Action::version;
    return cl;
  }
  const bool check_config = vm.count("check-config") > 0;
  // Each problem is kept and the next setting checked, so all of them are reported.
  std::vector<std::string> problems;
  auto refused = [&] {
    std::string message;
    for (const std::string& problem : problems) message += (message.empty() ? "" : "\n") + problem;
    return UsageError{message, check_config};
  };

  if (vm.count("config")) {
    const std::string path = vm["config"].as<std::string>();
    if (path.empty()) return UsageError{"--config: the file name is empty", check_config};
    cl.config.config_file = absolute(path);
    std::ifstream in(cl.config.config_file, std::ios::binary);
    if (!in) return UsageError{"--config: cannot read '" + cl.config.config_file + "'", check_config};
    const std::string text(std::istreambuf_iterator<char>(in), {});
    const ConfigFile file = read_config_file(cl.config.config_file, text);
    origins.from_file(cl.config.config_file, file);
    problems = file.problems;
    const po::options_description settings = setting_options();
    po::parsed_options parsed(&settings);
    std::map<std::string, int> first_line;
    for (const FileSetting& setting : file.settings) {
      const std::string where = cl.config.config_file + ":" + std::to_string(setting.line) + ": " + setting.key + ": ";
      if (!settings.find_nothrow(setting.key, /*approx=*/false)) {
        problems.push_back(where + "unknown key (see sluiced --help for the keys)");
      } else if (auto [first, fresh] = first_line.emplace(setting.key, setting.line); !fresh) {
        problems.push_back(where + "given twice (first on line " + std::to_string(first->second) + ")");
      } else {
        parsed.options.emplace_back(setting.key, std::vector<std::string>{setting.value});
      }
    }
    // Values already on the command line are final for po::store: flags win.
    try {
      po::store(parsed, vm);
    } catch (const po::error& e) {
      problems.push_back(cl.config.config_file + ": " + e.what());
    }
  }
  try {
    po::notify(vm);
  } catch (const po::error& e) {
    return UsageError{e.what(), check_config};
  }

  if (vm.count("command")) {
    const auto& words = vm["command"].as<std::vector<std::string>>();
    if (check_config) return UsageError{"--check-config takes no command ('" + words[0] + "')", check_config};
    if (words[0] != "service") return UsageError{"unknown command '" + words[0] + "' (the only command is 'service')"};
    if (words.size() != 2) return UsageError{"'service' takes one of install, uninstall, start, stop, reload, run"};
    static const char* kVerbs[] = {"install", "uninstall", "start", "stop", "reload", "run"};
    if (std::find(std::begin(kVerbs), std::end(kVerbs), words[1]) == std::end(kVerbs)) {
      return UsageError{"unknown service command '" + words[1] + "' (use install, uninstall, start, stop, reload or run)"};
    }
    cl.action = CommandLine::Action::service;
    cl.service_verb = words[1];
  }
  if (check_config) cl.action = CommandLine::Action::check_config;
  cl.foreground = vm.count("foreground") > 0;

  const std::string level = vm["log-level"].as<std::string>();
  if (auto parsed_level = parse_log_level(level)) {
    cl.config.log_level = *parsed_level;
  } else {
    problems.push_back(origins.name("log-level") + ": '" + level +
                       "' is not one of trace, debug, info, warn, error, critical, off");
  }

  const std::string flush_text = vm["flush-interval"].as<std::string>();
  double flush_seconds = 0;
  std::size_t used = 0;
  try {
    flush_seconds = std::stod(flush_text, &used);
  } catch (const std::exception&) {
    used = 0;
  }
  if (used == 0 || used != flush_text.size() || !(flush_seconds >= 0.1 && flush_seconds <= 3600)) {
    problems.push_back(origins.name("flush-interval") + ": '" + flush_text + "' is not a number of seconds from 0.1 to 3600");
  } else {
    cl.config.flush_interval = std::chrono::milliseconds(static_cast<long long>(flush_seconds * 1000));
  }

  for (const FlowLimitSetting& setting : kFlowLimitSettings) {
    const std::string text = trim(vm[setting.key].as<std::string>());
    if (setting.flag) {
      if (text != "true" && text != "false") {
        problems.push_back(origins.name(setting.key) + ": '" + text + "' is not true or false");
      } else {
        cl.config.flow_limits.*setting.flag = text == "true";
      }
      continue;
    }
    std::size_t value = 0;
    const auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), value);
    if (text.empty() || error != std::errc() || end != text.data() + text.size() || value < setting.minimum ||
        value > setting.maximum) {
      problems.push_back(origins.name(setting.key) + ": '" + text + "' is not a whole number from " +
                         std::to_string(setting.minimum) + " to " + std::to_string(setting.maximum));
    } else {
      cl.config.flow_limits.*setting.count = value;
    }
  }

  cl.config.state_dir = vm.count("state-dir") ? vm["state-dir"].as<std::string>() : platform::default_state_dir();
  if (cl.config.state_dir.empty()) problems.push_back(origins.name("state-dir") + ": the directory name is empty");
  else cl.config.state_dir = absolute(cl.config.state_dir);

  bool control_from_environment = false;
  if (vm.count("control")) {
    cl.config.control_endpoint = vm["control"].as<std::string>();
  } else if (auto env = platform::environment("SLUICE_CONTROL"); !env.empty()) {
    cl.config.control_endpoint = env;
    control_from_environment = true;
  } else {
    cl.config.control_endpoint = platform::default_control_endpoint();
  }
  if (cl.config.control_endpoint.empty()) {
    problems.push_back(origins.name("control") + ": the endpoint is empty");
  } else if (!cl.config.control_endpoint.starts_with("\\\\")) {
    // A daemon changes directory, so a relative socket path is made absolute; pipe
    // names (\\.\pipe\...) are left alone.
    cl.config.control_endpoint = absolute(cl.config.control_endpoint);
  }

  // Its form is checked here, so a reload refuses a bad one; whether it is free, when it is opened.
  cl.config.metrics_listen = trim(vm["metrics-listen"].as<std::string>());
  if (!cl.config.metrics_listen.empty()) {
    try {
      metrics::parse_listen_address(cl.config.metrics_listen);
    } catch (const std::invalid_argument& e) {
      problems.push_back(origins.name("metrics-listen") + ": " + e.what());
    }
  }
  if (!problems.empty()) return refused();

  // An installed service starts in another working directory and environment, so
  // what the command line said is spelled out with absolute paths. Settings the
  // command line left out stay out: the service reads them from its file.
  if (!cl.config.config_file.empty()) cl.run_arguments = {"--config", cl.config.config_file};
  std::vector<const char*> keys{"state-dir", "control", "log-level", "flush-interval", "metrics-listen"};
  for (const FlowLimitSetting& setting : kFlowLimitSettings) keys.push_back(setting.key);
  for (const char* key : keys) {
    if (!origins.on_command_line(key) && !(key == std::string("control") && control_from_environment)) continue;
    const std::string value = key == std::string("state-dir")  ? cl.config.state_dir
                              : key == std::string("control") ? cl.config.control_endpoint
                                                               : vm[key].as<std::string>();
    cl.run_arguments.insert(cl.run_arguments.end(), {std::string("--") + key, value});
  }
  return cl;
}

}  // namespace sluice::service
