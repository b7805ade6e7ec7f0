#include "provider/core/provider_config.h"

#include <cctype>
#include <charconv>

namespace sluice::provider {

namespace {

std::string_view trim(std::string_view s) {
  const auto first = s.find_first_not_of(" \t\r");
  if (first == std::string_view::npos) return {};
  const auto last = s.find_last_not_of(" \t\r");
  return s.substr(first, last - first + 1);
}

void set(std::string_view key, std::string_view value, const std::string& where, const EndpointRule& rule,
         ProviderConfig& config) {
  if (key == "control") {
    if (rule.accepts == nullptr || !rule.accepts(value)) {
      config.problems.push_back(where + ": control must be " + rule.requirement + ", not '" + std::string(value) + "'");
      return;
    }
    config.control = std::string(value);
  } else if (key == "fail_mode") {
    if (auto mode = parse_fail_mode(std::string(value))) {
      config.fail_mode = *mode;
    } else {
      config.problems.push_back(where + ": fail_mode must be open or closed, not '" + std::string(value) + "'");
    }
  } else if (key == "timeout_ms") {
    unsigned ms = 0;
    auto [end, error] = std::from_chars(value.data(), value.data() + value.size(), ms);
    if (error != std::errc() || end != value.data() + value.size() || ms < 1 || ms > kMaxTimeoutMs) {
      config.problems.push_back(where + ": timeout_ms must be 1-60000, not '" + std::string(value) + "'");
      return;
    }
    config.timeout = std::chrono::milliseconds(ms);
  } else {
    config.problems.push_back(where + ": unknown key '" + std::string(key) + "'");
  }
}

bool equal_ignoring_case(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i) {
    if (std::tolower(static_cast<unsigned char>(a[i])) != std::tolower(static_cast<unsigned char>(b[i]))) return false;
  }
  return true;
}

}  // namespace

ProviderConfig default_config(const EndpointRule& rule) {
  ProviderConfig config;
  config.control = rule.default_endpoint;
  return config;
}

void apply_config_file(std::string_view text, std::string_view file_name, const EndpointRule& rule, ProviderConfig& config) {
  int number = 0;
  while (!text.empty()) {
    const auto end = text.find('\n');
    std::string_view line = text.substr(0, end);
    text = end == std::string_view::npos ? std::string_view{} : text.substr(end + 1);
    ++number;
    if (auto hash = line.find('#'); hash != std::string_view::npos) line = line.substr(0, hash);
    line = trim(line);
    if (line.empty()) continue;
    const std::string where = std::string(file_name) + ":" + std::to_string(number);
    const auto equals = line.find('=');
    if (equals == std::string_view::npos) {
      config.problems.push_back(where + ": expected 'key = value', got '" + std::string(line) + "'");
      continue;
    }
    set(trim(line.substr(0, equals)), trim(line.substr(equals + 1)), where, rule, config);
  }
}

void apply_environment(const Lookup& lookup, const EndpointRule& rule, ProviderConfig& config) {
  if (auto v = lookup("SLUICE_PROVIDER_DISABLE"); v && !v->empty() && *v != "0") config.disabled = true;
  if (auto v = lookup("SLUICE_CONTROL"); v && !v->empty()) set("control", *v, "SLUICE_CONTROL", rule, config);
  if (auto v = lookup("SLUICE_FAIL_MODE"); v && !v->empty()) set("fail_mode", *v, "SLUICE_FAIL_MODE", rule, config);
  if (auto v = lookup("SLUICE_PROVIDER_TIMEOUT_MS"); v && !v->empty()) {
    set("timeout_ms", *v, "SLUICE_PROVIDER_TIMEOUT_MS", rule, config);
  }
}

bool is_service_program(std::string_view executable_path) {
  const auto slash = executable_path.find_last_of("/\\");
  const auto name = slash == std::string_view::npos ? executable_path : executable_path.substr(slash + 1);
  return equal_ignoring_case(name, "sluiced") || equal_ignoring_case(name, "sluiced.exe");
}

}  // namespace sluice::provider
