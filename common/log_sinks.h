#pragma once

// The log destinations that depend on the platform, used by init_logging():
// posix_log_sinks.cpp (the systemd journal) and win_log_sinks.cpp (the Event Log).

#include <spdlog/common.h>

namespace sluice {

// True when stderr is connected to the systemd journal (see is_journal_stream);
// always false on Windows.
bool stderr_is_journal();

// A sink writing the lines event_log_type() selects to the Application Event Log
// under the source kEventSourceName; nullptr where there is no Event Log (POSIX).
spdlog::sink_ptr make_event_log_sink();

// The Event Log source sluiced reports under, registered by `sluiced service install`.
inline constexpr const char* kEventSourceName = "Sluice";

}  // namespace sluice
