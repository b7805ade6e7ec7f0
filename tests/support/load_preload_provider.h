#pragma once

// For tests that load libsluice_preload.so into themselves (POSIX only).

#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <string>

namespace sluice::test {

// The first time the test program runs, runs it again with LD_PRELOAD set to
// `provider` and a control socket of its own, /tmp/sluice-<name>-<pid>.sock (the
// provider reads both when it loads). Returns only in the program run again.
inline void load_preload_provider(char** argv, const char* provider, const char* name) {
  if (std::getenv("SLUICE_PRELOAD_TEST_LOADED") != nullptr) return;
  ::setenv("LD_PRELOAD", provider, 1);
  const std::string control = "/tmp/sluice-" + std::string(name) + "-" + std::to_string(::getpid()) + ".sock";
  ::setenv("SLUICE_CONTROL", control.c_str(), 1);
  ::setenv("SLUICE_PRELOAD_TEST_LOADED", "1", 1);
  ::execv("/proc/self/exe", argv);
  std::perror((std::string(name) + ": re-exec").c_str());
  std::exit(1);
}

}  // namespace sluice::test
