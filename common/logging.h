#pragma once

#include <optional>
#include <string>

#include <spdlog/common.h>
#include <spdlog/logger.h>

namespace sluice {

struct LogSettings {
  spdlog::level::level_enum level = spdlog::level::info;
  bool console = true;     // stderr; off for a daemon or a Windows service
  std::string file_path;   // rotating log file; empty for none
  // Windows service: lifecycle lines and every warning or worse also go to the
  // Application Event Log (source "Sluice"). Ignored where there is no Event Log.
  bool event_log = false;
};

// Parses "trace|debug|info|warn|error|critical|off"; nullopt for anything else,
// so callers can name the bad value in their own error message.
std::optional<spdlog::level::level_enum> parse_log_level(const std::string& text);

// Installs the default logger used by every SPDLOG_* call in the process, and the
// lifecycle logger beside it. When the console is stderr and stderr is the systemd
// journal (JOURNAL_STREAM), console lines carry a "<N>" syslog priority prefix and
// no timestamp (the journal stamps them); the log file keeps its own format.
// Throws spdlog::spdlog_ex when the log file cannot be opened.
void init_logging(const LogSettings& settings);

// Changes the level of both loggers while the service runs (a reload of log-level).
void set_log_level(spdlog::level::level_enum level);

// The logger for lifecycle events: starting, ready (listening), stop requested,
// stopped. Same destinations and format as the default logger, but its lines also
// reach the Event Log at information level, and they are written even when the
// configured level is above info (unless it is "off"). Usage:
//   lifecycle_log().info("sluiced {} starting", version());
// Before init_logging() it is the default logger.
spdlog::logger& lifecycle_log();

}  // namespace sluice
