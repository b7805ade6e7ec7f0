// sendto_bench: the cost of one sendto() of a small datagram on one UDP socket.
//
// Binds a sink socket on 127.0.0.1 (nobody reads it: once its buffer is full the kernel
// drops what arrives, which costs the sender the same every time), makes WARMUP untimed
// calls, then times up to COUNT sendto() calls of SIZE bytes to the sink, stopping early
// after MAX_SECONDS. Prints one JSON object: {"ns_per_call", "calls", "seconds", "errors"}.
//
// Run it plain and under sluice-run with no rule matching it (the default action
// direct): the difference is what the loaded provider costs a pass-through sendto
// once its verdict is cached.
//
// Usage: sendto_bench [--count N] [--max-seconds S] [--size BYTES] [--warmup N] [--port PORT]
// Exit status: 0 measured, 1 could not set up or every call failed, 2 bad usage.

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

#include "tests/bench/bench_args.h"

namespace {

constexpr bench::Program kProgram{"sendto_bench", "[--count N] [--max-seconds S] [--size BYTES] [--warmup N] [--port PORT]"};

using Clock = std::chrono::steady_clock;


}  // namespace

int main(int argc, char** argv) {
  unsigned long count = 500000, warmup = 2000, size = 64, port = 0;
  double max_seconds = 2.0;
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    if (i + 1 >= argc) kProgram.usage("missing value for " + arg);
    const double v = kProgram.number(argv[++i]);
    if (arg == "--count") {
      count = static_cast<unsigned long>(v);
    } else if (arg == "--max-seconds") {
      max_seconds = v;
    } else if (arg == "--size") {
      size = static_cast<unsigned long>(v);
    } else if (arg == "--warmup") {
      warmup = static_cast<unsigned long>(v);
    } else if (arg == "--port") {
      port = static_cast<unsigned long>(v);
    } else {
      kProgram.usage("unknown argument " + arg);
    }
  }
  if (count == 0 || size == 0 || size > 65507 || port > 65535 || max_seconds <= 0) kProgram.usage("value out of range");

  sockaddr_in sink_address{};
  sink_address.sin_family = AF_INET;
  sink_address.sin_port = htons(static_cast<std::uint16_t>(port));
  sink_address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t length = sizeof sink_address;
  const int sink = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  if (sink < 0 || bind(sink, reinterpret_cast<const sockaddr*>(&sink_address), sizeof sink_address) != 0 ||
      getsockname(sink, reinterpret_cast<sockaddr*>(&sink_address), &length) != 0) {
    std::fprintf(stderr, "sendto_bench: cannot bind the sink: %s\n", std::strerror(errno));
    return 1;
  }
  const int s = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  if (s < 0) {
    std::fprintf(stderr, "sendto_bench: socket: %s\n", std::strerror(errno));
    return 1;
  }
  const std::vector<char> payload(size, 'x');
  const auto* to = reinterpret_cast<const sockaddr*>(&sink_address);

  unsigned long errors = 0;
  for (unsigned long i = 0; i < warmup; ++i) {
    if (sendto(s, payload.data(), payload.size(), 0, to, sizeof sink_address) < 0) ++errors;
  }
  if (warmup != 0 && errors == warmup) {
    std::fprintf(stderr, "sendto_bench: every warm-up sendto failed: %s\n", std::strerror(errno));
    return 1;
  }

  errors = 0;
  const auto deadline = std::chrono::duration<double>(max_seconds);
  unsigned long calls = 0;
  const auto start = Clock::now();
  auto now = start;
  while (calls < count) {
    if (sendto(s, payload.data(), payload.size(), 0, to, sizeof sink_address) < 0) ++errors;
    ++calls;
    if ((calls & 1023) == 0) {
      now = Clock::now();
      if (now - start >= deadline) break;
    }
  }
  now = Clock::now();
  const double seconds = std::chrono::duration<double>(now - start).count();
  close(s);
  close(sink);
  if (errors == calls) {
    std::fprintf(stderr, "sendto_bench: every sendto failed\n");
    return 1;
  }
  std::printf("{\"ns_per_call\": %.2f, \"calls\": %lu, \"seconds\": %.4f, \"errors\": %lu}\n",
              seconds * 1e9 / static_cast<double>(calls), calls, seconds, errors);
  return 0;
}
