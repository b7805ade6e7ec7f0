// connect_bench: latency of a blocking TCP connect() + close() to a loopback listener.
//
// Starts a listener thread on 127.0.0.1:PORT that accepts and closes every connection,
// makes a few untimed warm-up connections, then times COUNT blocking connect()+close()
// pairs with steady_clock (the socket is created before the clock starts). Prints one
// JSON object: {"p50_us", "p99_us", "mean_us", "min_us", "max_us", "count", "failures"}.
//
// Run it plain for the direct figure and under sluice-run with a relay rule for this
// executable and PORT for the relayed one: the difference is what the provider's flow
// registration and the redirect to the relay listener add. The port is an argument so
// that the rule can be written before the program starts.
//
// Usage: connect_bench --port PORT [--count N] [--warmup N]
// Exit status: 0 measured, 1 could not listen or no connect succeeded, 2 bad usage.

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <thread>
#include <vector>

#include "tests/bench/bench_args.h"

namespace {

constexpr bench::Program kProgram{"connect_bench", "--port PORT [--count N] [--warmup N]"};

using Clock = std::chrono::steady_clock;


sockaddr_in loopback(unsigned port) {
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(static_cast<std::uint16_t>(port));
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  return a;
}

double percentile(const std::vector<double>& sorted, double q) {
  const std::size_t rank = static_cast<std::size_t>(q * static_cast<double>(sorted.size()) + 0.999999);
  return sorted[std::min(sorted.size() - 1, rank == 0 ? 0 : rank - 1)];
}

}  // namespace

int main(int argc, char** argv) {
  unsigned long port = 0, count = 2000, warmup = 50;
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    if (i + 1 >= argc) kProgram.usage("missing value for " + arg);
    if (arg == "--port") {
      port = static_cast<unsigned long>(kProgram.number(argv[++i]));
    } else if (arg == "--count") {
      count = static_cast<unsigned long>(kProgram.number(argv[++i]));
    } else if (arg == "--warmup") {
      warmup = static_cast<unsigned long>(kProgram.number(argv[++i]));
    } else {
      kProgram.usage("unknown argument " + arg);
    }
  }
  if (port == 0 || port > 65535) kProgram.usage("--port must be 1-65535");
  if (count == 0) kProgram.usage("--count must be at least 1");

  const int listener = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  const int one = 1;
  setsockopt(listener, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  const sockaddr_in address = loopback(static_cast<unsigned>(port));
  if (listener < 0 || bind(listener, reinterpret_cast<const sockaddr*>(&address), sizeof address) != 0 ||
      listen(listener, 4096) != 0) {
    std::fprintf(stderr, "connect_bench: cannot listen on 127.0.0.1:%lu: %s\n", port, std::strerror(errno));
    return 1;
  }

  std::atomic<bool> stop{false};
  std::thread acceptor([&] {
    pollfd p{listener, POLLIN, 0};
    while (!stop.load(std::memory_order_relaxed)) {
      if (poll(&p, 1, 50) <= 0) continue;
      const int s = accept4(listener, nullptr, nullptr, SOCK_CLOEXEC);
      if (s >= 0) close(s);
    }
  });

  std::vector<double> us;
  us.reserve(count);
  unsigned long failures = 0;
  int first_error = 0;
  for (unsigned long i = 0; i < warmup + count; ++i) {
    const int s = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (s < 0) {
      std::fprintf(stderr, "connect_bench: socket: %s\n", std::strerror(errno));
      break;
    }
    const auto t0 = Clock::now();
    const int rc = connect(s, reinterpret_cast<const sockaddr*>(&address), sizeof address);
    const int error = errno;
    close(s);
    const auto t1 = Clock::now();
    if (rc != 0) {
      ++failures;
      if (first_error == 0) first_error = error;
      continue;
    }
    if (i >= warmup) us.push_back(std::chrono::duration<double, std::micro>(t1 - t0).count());
  }
  stop = true;
  acceptor.join();
  close(listener);

  if (us.empty()) {
    std::fprintf(stderr, "connect_bench: no connect succeeded (%lu failures; first: %s)\n", failures,
                 std::strerror(first_error));
    return 1;
  }
  if (failures != 0) {
    std::fprintf(stderr, "connect_bench: %lu connects failed (first: %s)\n", failures, std::strerror(first_error));
  }
  std::sort(us.begin(), us.end());
  double sum = 0;
  for (double x : us) sum += x;
  std::printf("{\"p50_us\": %.2f, \"p99_us\": %.2f, \"mean_us\": %.2f, \"min_us\": %.2f, \"max_us\": %.2f, "
              "\"count\": %zu, \"failures\": %lu}\n",
              percentile(us, 0.50), percentile(us, 0.99), sum / static_cast<double>(us.size()), us.front(), us.back(),
              us.size(), failures);
  return 0;
}
