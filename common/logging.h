#pragma once

#include <optional>
#include <string>

#include <spdlog/common.h>

namespace sluice {

struct LogSettings {
  spdlog::level::level_enum level = spdlog::level::info;
  bool console = true;     // stderr; off for a daemon or a Windows service
  std::string file_path;   // rotating log file; empty for none
};

// Parses "trace|debug|info|warn|error|critical|off"; nullopt for anything else,
// so callers can name the bad value in their own error message.
std::optional<spdlog::level::level_enum> parse_log_level(const std::string& text);

// Installs the default logger used by every SPDLOG_* call in the process.
// Throws spdlog::spdlog_ex when the log file cannot be opened.
void init_logging(const LogSettings& settings);

}  // namespace sluice
