#include "provider/preload/provider_config.h"

#include <fcntl.h>
#include <unistd.h>

#include <charconv>
#include <cstdlib>

#include "provider/preload/real_calls.h"

namespace sluice::preload {

namespace {

std::string_view trim(std::string_view s) {
  const auto first = s.find_first_not_of(" \t\r");
  if (first == std::string_view::npos) return {};
  const auto last = s.find_last_not_of(" \t\r");
  return s.substr(first, last - first + 1);
}

void set(std::string_view key, std::string_view value, const std::string& where, ProviderConfig& config) {
  if (key == "control") {
    if (value.empty() || value.front() != '/') {
      config.problems.push_back(where + ": control must be an absolute socket path, not '" + std::string(value) + "'");
      return;
    }
    config.control = std::string(value);
  } else if (key == "fail_mode") {
    if (auto mode = provider::parse_fail_mode(std::string(value))) {
      config.fail_mode = *mode;
    } else {
      config.problems.push_back(where + ": fail_mode must be open or closed, not '" + std::string(value) + "'");
    }
  } else if (key == "timeout_ms") {
    unsigned ms = 0;
    auto [end, error] = std::from_chars(value.data(), value.data() + value.size(), ms);
    if (error != std::errc() || end != value.data() + value.size() || ms < 1 || ms > 60'000) {
      config.problems.push_back(where + ": timeout_ms must be 1-60000, not '" + std::string(value) + "'");
      return;
    }
    config.timeout = std::chrono::milliseconds(ms);
  } else {
    config.problems.push_back(where + ": unknown key '" + std::string(key) + "'");
  }
}

}  // namespace

void apply_config_file(std::string_view text, ProviderConfig& config) {
  int number = 0;
  while (!text.empty()) {
    const auto end = text.find('\n');
    std::string_view line = text.substr(0, end);
    text = end == std::string_view::npos ? std::string_view{} : text.substr(end + 1);
    ++number;
    if (auto hash = line.find('#'); hash != std::string_view::npos) line = line.substr(0, hash);
    line = trim(line);
    if (line.empty()) continue;
    const std::string where = std::string(kConfigFile) + ":" + std::to_string(number);
    const auto equals = line.find('=');
    if (equals == std::string_view::npos) {
      config.problems.push_back(where + ": expected 'key = value', got '" + std::string(line) + "'");
      continue;
    }
    set(trim(line.substr(0, equals)), trim(line.substr(equals + 1)), where, config);
  }
}

void apply_environment(const Lookup& lookup, ProviderConfig& config) {
  if (auto v = lookup("SLUICE_PROVIDER_DISABLE"); v && !v->empty() && *v != "0") config.disabled = true;
  if (auto v = lookup("SLUICE_CONTROL"); v && !v->empty()) set("control", *v, "SLUICE_CONTROL", config);
  if (auto v = lookup("SLUICE_FAIL_MODE"); v && !v->empty()) set("fail_mode", *v, "SLUICE_FAIL_MODE", config);
  if (auto v = lookup("SLUICE_PROVIDER_TIMEOUT_MS"); v && !v->empty()) set("timeout_ms", *v, "SLUICE_PROVIDER_TIMEOUT_MS", config);
}

ProviderConfig load_provider_config() {
  ProviderConfig config;
  std::string text;
  if (const int fd = ::open(kConfigFile, O_RDONLY | O_CLOEXEC); fd >= 0) {
    char buffer[4096];
    ssize_t n;
    while (text.size() < 64 * 1024 && (n = ::read(fd, buffer, sizeof buffer)) > 0) text.append(buffer, static_cast<std::size_t>(n));
    real().close(fd);  // not our own close(): this runs while the provider is being created
  }
  apply_config_file(text, config);
  apply_environment([](const char* name) -> std::optional<std::string> {
    const char* value = std::getenv(name);
    return value ? std::optional<std::string>(value) : std::nullopt;
  }, config);
  return config;
}

bool is_service_program(std::string_view executable_path) {
  const auto slash = executable_path.rfind('/');
  const auto name = slash == std::string_view::npos ? executable_path : executable_path.substr(slash + 1);
  return name == "sluiced";
}

}  // namespace sluice::preload
