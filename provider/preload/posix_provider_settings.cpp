#include "provider/preload/posix_provider_settings.h"

#include <fcntl.h>
#include <unistd.h>

#include <cstdlib>
#include <string>

#include "provider/preload/real_calls.h"

namespace sluice::preload {

const provider::EndpointRule& control_rule() {
  static const provider::EndpointRule rule{
      kDefaultControl, [](std::string_view path) { return !path.empty() && path.front() == '/'; },
      "an absolute socket path"};
  return rule;
}

provider::ProviderConfig load_provider_config() {
  provider::ProviderConfig config = provider::default_config(control_rule());
  std::string text;
  if (const int fd = ::open(kConfigFile, O_RDONLY | O_CLOEXEC); fd >= 0) {
    char buffer[4096];
    ssize_t n;
    while (text.size() < 64 * 1024 && (n = ::read(fd, buffer, sizeof buffer)) > 0) text.append(buffer, static_cast<std::size_t>(n));
    real().close(fd);  // not our own close(): this runs while the provider is being created
  }
  provider::apply_config_file(text, kConfigFile, control_rule(), config);
  provider::apply_environment([](const char* name) -> std::optional<std::string> {
    const char* value = std::getenv(name);
    return value ? std::optional<std::string>(value) : std::nullopt;
  }, control_rule(), config);
  return config;
}

}  // namespace sluice::preload
