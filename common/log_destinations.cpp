#include "common/log_destinations.h"

#include <charconv>
#include <string_view>

namespace sluice {

std::string_view journal_prefix(spdlog::level::level_enum level) {
  // syslog(3) priorities: 2 crit, 3 err, 4 warning, 6 info, 7 debug. spdlog's trace
  // has no syslog level of its own and shares debug's.
  switch (level) {
    case spdlog::level::critical: return "<2>";
    case spdlog::level::err: return "<3>";
    case spdlog::level::warn: return "<4>";
    case spdlog::level::info: return "<6>";
    case spdlog::level::debug:
    case spdlog::level::trace: return "<7>";
    default: return "<6>";
  }
}

namespace {

// Parses a whole decimal number; false for empty text, other characters or overflow.
bool parse_decimal(std::string_view text, std::uint64_t& value) {
  if (text.empty()) return false;
  const auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), value);
  return error == std::errc() && end == text.data() + text.size();
}

}  // namespace

bool is_journal_stream(const char* journal_stream, std::uint64_t device, std::uint64_t inode) {
  if (journal_stream == nullptr) return false;
  const std::string_view value(journal_stream);
  const auto colon = value.find(':');
  if (colon == std::string_view::npos) return false;
  std::uint64_t named_device = 0;
  std::uint64_t named_inode = 0;
  return parse_decimal(value.substr(0, colon), named_device) && parse_decimal(value.substr(colon + 1), named_inode) &&
         named_device == device && named_inode == inode;
}

std::optional<EventLogType> event_log_type(spdlog::level::level_enum level, bool lifecycle) {
  switch (level) {
    case spdlog::level::critical:
    case spdlog::level::err: return EventLogType::error;
    case spdlog::level::warn: return EventLogType::warning;
    case spdlog::level::off: return std::nullopt;
    default: break;
  }
  if (lifecycle) return EventLogType::information;
  return std::nullopt;
}

}  // namespace sluice
