#include "tests/support/temp_dir.h"

#include <atomic>
#include <chrono>
#include <filesystem>

#include "common/platform/platform.h"

namespace sluice::test {

TempDir::TempDir() {
  static std::atomic<int> counter{0};
  const auto stamp = std::chrono::steady_clock::now().time_since_epoch().count() % 1000000;
  auto dir = std::filesystem::temp_directory_path() /
             ("sluice-test-" + std::to_string(platform::current_pid()) + "-" + std::to_string(stamp) + "-" +
              std::to_string(counter++));
  std::filesystem::create_directories(dir);
  path_ = dir.string();
}

TempDir::~TempDir() {
  std::error_code ec;
  std::filesystem::remove_all(path_, ec);
}

std::string TempDir::file(const std::string& name) const { return platform::join_path(path_, name); }

}  // namespace sluice::test
