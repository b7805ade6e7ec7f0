#include "tests/support/child_process.h"

namespace sluice::test {

std::optional<std::string> ChildProcess::read_line(int timeout_ms) {
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout_ms);
  for (;;) {
    if (const auto end = pending_.find('\n'); end != std::string::npos) {
      std::string line = pending_.substr(0, end);
      pending_.erase(0, end + 1);
      if (!line.empty() && line.back() == '\r') line.pop_back();  // Windows' text mode
      return line;
    }
    if (!read_more(deadline)) return std::nullopt;
  }
}

}  // namespace sluice::test
