#pragma once

// What an error tells the administrator to do, where the fix differs by platform
// (posix_fix_hints.cpp, win_fix_hints.cpp; CMake picks one).

#include <string>

namespace sluice::cli {

// How to become someone sluiced lets change the policy: "run it with sudo, or ...".
std::string how_to_become_administrator();
// How to start the service when nothing answers at its endpoint.
std::string how_to_start_service();

}  // namespace sluice::cli
