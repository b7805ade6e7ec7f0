// POSIX log destinations: the systemd journal is recognised from stderr's identity;
// there is no Event Log.

#include <sys/stat.h>
#include <unistd.h>

#include <cstdlib>

#include "common/log_destinations.h"
#include "common/log_sinks.h"

namespace sluice {

bool stderr_is_journal() {
  struct stat info {};
  if (::fstat(STDERR_FILENO, &info) != 0) return false;
  return is_journal_stream(std::getenv("JOURNAL_STREAM"), static_cast<std::uint64_t>(info.st_dev),
                           static_cast<std::uint64_t>(info.st_ino));
}

spdlog::sink_ptr make_event_log_sink() { return nullptr; }

}  // namespace sluice
