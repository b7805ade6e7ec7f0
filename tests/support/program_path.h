#pragma once

// A program's path in this platform's own form, for tests that name programs in rules
// and quotas: the service refuses the other platform's form (service/rpc/program_paths.h).
// /usr/bin/NAME on POSIX, C:\Program Files\NAME on Windows; it need not exist.

#include <string>

#include "common/platform/platform.h"

namespace sluice::test {

inline std::string program_path(const std::string& name) {
  return platform::is_native_absolute_path("/") ? "/usr/bin/" + name : "C:\\Program Files\\" + name;
}

}  // namespace sluice::test
