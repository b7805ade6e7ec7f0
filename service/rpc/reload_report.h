#pragma once

// What service.reload answers (status_methods.h) and what the reloader that carries
// it out returns or throws (service/process/config_reload.h): the contract between
// the RPC surface and the process, so neither room needs the other's code for it.

#include <stdexcept>
#include <string>
#include <vector>

namespace sluice::service {

// What a reload did, for the caller and the log.
struct ReloadReport {
  std::string config_file;
  std::vector<std::string> applied;           // keys whose new value is in effect
  std::vector<std::string> restart_required;  // keys that changed but need a restart
};

// The message says what is wrong and that the running settings were kept.
class ReloadError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

}  // namespace sluice::service
