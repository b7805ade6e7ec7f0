#pragma once

// The command-line handling the benchmark programs share: every option takes a
// non-negative number, and a bad command line exits 2 with the program's synopsis.

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <string>

namespace bench {

struct Program {
  const char* name;      // "udp_bench"
  const char* synopsis;  // "--port PORT [--size BYTES]"

  [[noreturn]] void usage(const std::string& message) const {
    std::fprintf(stderr, "%s: %s\nusage: %s %s\n", name, message.c_str(), name, synopsis);
    std::exit(2);
  }

  double number(const char* text) const {
    char* end = nullptr;
    errno = 0;
    const double n = std::strtod(text, &end);
    if (*text == '\0' || *end != '\0' || errno != 0 || n < 0) usage(std::string("not a number: ") + text);
    return n;
  }
};

}  // namespace bench
