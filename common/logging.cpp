#include "common/logging.h"

#include <algorithm>
#include <memory>
#include <vector>

#include <spdlog/pattern_formatter.h>
#include <spdlog/sinks/rotating_file_sink.h>
#include <spdlog/sinks/stdout_color_sinks.h>
#include <spdlog/spdlog.h>

#include "common/log_destinations.h"
#include "common/log_sinks.h"

namespace sluice {
namespace {

std::shared_ptr<spdlog::logger> g_lifecycle;

constexpr const char* kPattern = "%Y-%m-%dT%H:%M:%S.%e%z %^%-5l%$ [%t] %v";
// The journal adds the time and reads the level from the prefix.
constexpr const char* kJournalPattern = "%*[%t] %v";
// Event Viewer shows time, level and source itself.
constexpr const char* kEventLogPattern = "%v";

// The pattern flag %* : the line's "<N>" journal priority.
class JournalPrefixFlag final : public spdlog::custom_flag_formatter {
 public:
  void format(const spdlog::details::log_msg& msg, const std::tm&, spdlog::memory_buf_t& dest) override {
    const auto prefix = journal_prefix(msg.level);
    dest.append(prefix.data(), prefix.data() + prefix.size());
  }
  std::unique_ptr<custom_flag_formatter> clone() const override { return std::make_unique<JournalPrefixFlag>(); }
};

std::unique_ptr<spdlog::formatter> journal_formatter() {
  auto formatter = std::make_unique<spdlog::pattern_formatter>();
  formatter->add_flag<JournalPrefixFlag>('*').set_pattern(kJournalPattern);
  return formatter;
}

}  // namespace

std::optional<spdlog::level::level_enum> parse_log_level(const std::string& text) {
  static const std::pair<const char*, spdlog::level::level_enum> kLevels[] = {
      {"trace", spdlog::level::trace}, {"debug", spdlog::level::debug},       {"info", spdlog::level::info},
      {"warn", spdlog::level::warn},   {"warning", spdlog::level::warn},      {"error", spdlog::level::err},
      {"critical", spdlog::level::critical}, {"off", spdlog::level::off},
  };
  for (const auto& [name, level] : kLevels) {
    if (text == name) return level;
  }
  return std::nullopt;
}

void init_logging(const LogSettings& settings) {
  std::vector<spdlog::sink_ptr> sinks;
  spdlog::sink_ptr console;
  if (settings.console) {
    console = std::make_shared<spdlog::sinks::stderr_color_sink_mt>();
    sinks.push_back(console);
  }
  if (!settings.file_path.empty()) {
    // 5 MiB x 3 files: enough history to diagnose, bounded so a chatty debug level
    // cannot fill the disk.
    sinks.push_back(std::make_shared<spdlog::sinks::rotating_file_sink_mt>(settings.file_path, 5 * 1024 * 1024, 3));
  }
  spdlog::sink_ptr event_log = settings.event_log ? make_event_log_sink() : nullptr;
  if (event_log) sinks.push_back(event_log);

  auto logger = std::make_shared<spdlog::logger>("sluice", sinks.begin(), sinks.end());
  logger->set_level(settings.level);
  logger->set_pattern(kPattern);  // every sink; the special ones are set below
  if (console && stderr_is_journal()) console->set_formatter(journal_formatter());
  if (event_log) event_log->set_pattern(kEventLogPattern);
  logger->flush_on(spdlog::level::info);

  // Shares the sinks (and so their formats). At most info, so "starting" and
  // "stopped" are recorded under a quieter level; "off" silences it too.
  auto lifecycle = std::make_shared<spdlog::logger>(std::string(kLifecycleLoggerName), sinks.begin(), sinks.end());
  lifecycle->flush_on(spdlog::level::info);

  spdlog::set_default_logger(logger);
  g_lifecycle = lifecycle;
  set_log_level(settings.level);
}

void set_log_level(spdlog::level::level_enum level) {
  spdlog::default_logger()->set_level(level);
  if (g_lifecycle) {
    g_lifecycle->set_level(level == spdlog::level::off ? spdlog::level::off : std::min(level, spdlog::level::info));
  }
}

spdlog::logger& lifecycle_log() { return g_lifecycle ? *g_lifecycle : *spdlog::default_logger_raw(); }

}  // namespace sluice
