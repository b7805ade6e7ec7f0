#pragma once

// sluiced's command line. Parsing is separate from acting on it so that every
// option and every error message is unit-tested.

#include <chrono>
#include <optional>
#include <variant>
#include <string>
#include <vector>

#include <spdlog/common.h>

namespace sluice::service {

struct ServiceConfig {
  std::string state_dir;          // holds sluice.db and sluiced.log
  std::string control_endpoint;   // Unix socket path or pipe name
  spdlog::level::level_enum log_level = spdlog::level::info;
  std::chrono::milliseconds flush_interval{5000};  // how often usage counters reach the database
};

struct CommandLine {
  enum class Action { run, service, help, version } action = Action::run;
  std::string service_verb;                 // install|uninstall|start|stop|run
  bool foreground = false;
  ServiceConfig config;
  std::vector<std::string> run_arguments;   // options an installed service is started with
};

struct UsageError {
  std::string message;
};

// Returns the parsed command line, or the usage error to print (exit status 2).
// Defaults come from the platform (and SLUICE_CONTROL for the endpoint).
std::variant<CommandLine, UsageError> parse_command_line(const std::vector<std::string>& args);

std::string help_text();

}  // namespace sluice::service
