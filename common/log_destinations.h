#pragma once

// Pure decisions about where and how log lines go, kept apart from the sinks that
// act on them so they can be tested on every platform: the systemd journal's
// priority prefixes, whether stderr is the journal, and what reaches the Windows
// Event Log under which entry type.

#include <cstdint>
#include <optional>
#include <string_view>

#include <spdlog/common.h>

namespace sluice {

// --- systemd journal ---------------------------------------------------------------

// The sd-daemon(3) prefix ("<3>" error ... "<7>" debug) journald reads as the
// line's syslog priority when stderr is connected to it.
std::string_view journal_prefix(spdlog::level::level_enum level);

// True when JOURNAL_STREAM (systemd.exec(5): "DEVICE:INODE" of the stream systemd
// connected to the journal) names the file stderr is open on. `journal_stream` is
// the variable's value (null when unset); `device`/`inode` are stderr's st_dev/st_ino.
// A stderr redirected elsewhere by the unit or a shell keeps its own timestamps.
bool is_journal_stream(const char* journal_stream, std::uint64_t device, std::uint64_t inode);

// --- Windows Event Log --------------------------------------------------------------

// The entry types used, with the values of winnt.h's EVENTLOG_*_TYPE (the Windows
// sink asserts they match), so the mapping is testable without <windows.h>.
enum class EventLogType : std::uint16_t { error = 0x0001, warning = 0x0002, information = 0x0004 };

// Name of the logger whose lines are lifecycle events (starting, ready, stop
// requested, stopped). See lifecycle_log() in common/logging.h.
inline constexpr std::string_view kLifecycleLoggerName = "sluice.lifecycle";

// What the Event Log receives: every warning, error and critical line, and the
// lifecycle lines whatever their level; nothing else (an administrator's Event Log
// is not a debug log). nullopt: the line is not reported.
std::optional<EventLogType> event_log_type(spdlog::level::level_enum level, bool lifecycle);

// Convenience for sinks, which see the logger's name on every message.
inline bool is_lifecycle_logger(std::string_view logger_name) { return logger_name == kLifecycleLoggerName; }

}  // namespace sluice
