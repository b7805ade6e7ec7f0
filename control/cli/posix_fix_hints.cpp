#include "control/cli/fix_hints.h"

#include "control/transport/transport.h"

namespace sluice::cli {

// sluiced takes root and members of sluice-admin for administrators
// (posix_transport.cpp); group membership counts from the next login on.
std::string how_to_become_administrator() {
  return std::string("run it with sudo, or add yourself to the ") + transport::kAdminGroup +
         " group (sudo usermod -aG " + transport::kAdminGroup + " $USER, then log in again)";
}

std::string how_to_start_service() { return "start it with 'sudo systemctl start sluiced', or check --control"; }

}  // namespace sluice::cli
