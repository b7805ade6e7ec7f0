#pragma once

// sluiced's command line and configuration file. Parsing is separate from acting
// on it so that every option and every error message is unit-tested.

#include <chrono>
#include <cstddef>
#include <optional>
#include <variant>
#include <string>
#include <vector>

#include <spdlog/common.h>

#include "service/flows/user_flow_limits.h"

namespace sluice::service {

struct ServiceConfig {
  std::string state_dir;          // holds sluice.db and sluiced.log
  std::string control_endpoint;   // Unix socket path or pipe name
  spdlog::level::level_enum log_level = spdlog::level::info;
  std::chrono::milliseconds flush_interval{5000};  // how often usage counters reach the database
  std::string metrics_listen;     // loopback ADDRESS:PORT serving /metrics; empty: off
  std::string config_file;        // the sluiced.conf read at start (absolute); empty for none
  UserFlowLimits flow_limits;         // what one user may hold of the relay (service/flows/user_flow_limits.h)

  bool operator==(const ServiceConfig&) const = default;
};

struct CommandLine {
  enum class Action { run, service, help, version, check_config } action = Action::run;
  std::string service_verb;                 // install|uninstall|start|stop|reload|run
  bool foreground = false;
  ServiceConfig config;
  // The options given on the command line, spelled out with absolute paths: an
  // installed service is started with them, and a reload parses them again (with
  // the file they name) so that the command line keeps winning over the file.
  std::vector<std::string> run_arguments;
};

struct UsageError {
  std::string message;        // every problem found, one per line
  bool check_config = false;  // --check-config was asked for: the problems are its report
};

// Returns the parsed command line, or the usage error to print (exit status 2).
// Every bad key and value of the file is reported, not only the first, so that one
// run of --check-config lists all that must change; a bad command line stops at its
// first error.
// A setting comes from the command line, else from the file --config names, else
// (for the endpoint) from SLUICE_CONTROL, else from the platform's default.
// Errors name the flag, or the file, line and key, and the bad value.
std::variant<CommandLine, UsageError> parse_command_line(const std::vector<std::string>& args);

std::string help_text();

}  // namespace sluice::service
