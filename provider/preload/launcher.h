#pragma once

// sluice-run's decisions, apart from its I/O: where its options end and the program
// begins, where the provider library is, and the LD_PRELOAD the program gets.

#include <functional>
#include <optional>
#include <string>
#include <vector>

namespace sluice::preload {

struct LaunchLine {
  std::vector<std::string> options;  // sluice-run's own
  std::vector<std::string> program;  // PROGRAM ARGS...
};

// Options come first; the program starts after "--" or at the first word that is
// neither an option nor an option's value, so `sluice-run curl -v URL` works as
// `sluice-run -- curl -v URL` does.
LaunchLine split_launch_line(const std::vector<std::string>& args);

// The provider library for a program in `own_directory`: beside it (a build tree),
// then ../lib/sluice and ../lib (an installation). nullopt if none exists.
std::optional<std::string> find_provider_library(const std::string& own_directory,
                                                 const std::function<bool(const std::string&)>& exists);

// The directory of the running program (sluice-run, sluicectl); "." if unknown.
std::string own_directory();
bool is_regular_file(const std::string& path);

// `library` first, then whatever LD_PRELOAD already held, without a second copy of it.
std::string compose_ld_preload(const std::string& existing, const std::string& library);

}  // namespace sluice::preload
