#include "control/cli/fix_hints.h"

#include "control/transport/transport.h"

namespace sluice::cli {

// sluiced takes an enabled membership of Administrators (win_transport.cpp): a
// UAC-filtered token holds it deny-only, so the prompt must be elevated.
std::string how_to_become_administrator() {
  return "run it from an elevated prompt (Run as administrator) as a member of the Administrators group";
}

std::string how_to_start_service() {
  return std::string("start it with 'sc start ") + transport::kWindowsServiceName + "', or check --control";
}

}  // namespace sluice::cli
