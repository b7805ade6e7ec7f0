#include <atomic>

#include "common/platform/platform.h"
#include "tests/support/temp_dir.h"

namespace sluice::test {

std::string unique_endpoint(const TempDir&) {
  static std::atomic<int> counter{0};
  return "\\\\.\\pipe\\sluice-test-" + std::to_string(platform::current_pid()) + "-" + std::to_string(counter++);
}

}  // namespace sluice::test
