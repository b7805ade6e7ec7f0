// udp_bench: datagrams per second that reach a loopback receiver when one sender
// blasts them as fast as it can.
//
// A sink thread binds 127.0.0.1:PORT and drains it with recvmmsg(); the main thread
// sends SIZE-byte datagrams to it with plain sendto() calls (one per datagram, as
// applications do) for WARMUP seconds, then for SECONDS seconds of measurement, then
// stops. Datagrams the sink receives during the measurement window are counted, so
// the figure is what got through: whatever the sender produced beyond what the path
// (the kernel, or the relay) carried is dropped on the way. Prints one JSON object:
// {"size", "seconds", "sent", "received", "sent_pps", "received_pps", "send_errors"}.
//
// Run it plain for the direct figure and under sluice-run with a UDP relay rule for
// this executable and PORT for the relayed one (the datagrams then go through the
// relay's association port; the sink itself never sends, so it is not steered).
//
// Usage: udp_bench --port PORT [--size BYTES] [--seconds S] [--warmup S]
// Exit status: 0 measured, 1 could not set up or nothing was received, 2 bad usage.

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <thread>
#include <vector>

#include "tests/bench/bench_args.h"

namespace {

constexpr bench::Program kProgram{"udp_bench", "--port PORT [--size BYTES] [--seconds S] [--warmup S]"};

using Clock = std::chrono::steady_clock;


// Phases, in order: the sink attributes each received batch to the phase it sees.
enum Phase : int { warming = 0, measuring = 1, finished = 2 };

}  // namespace

int main(int argc, char** argv) {
  unsigned long port = 0, size = 64;
  double seconds = 3.0, warmup = 0.5;
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    if (i + 1 >= argc) kProgram.usage("missing value for " + arg);
    const double v = kProgram.number(argv[++i]);
    if (arg == "--port") {
      port = static_cast<unsigned long>(v);
    } else if (arg == "--size") {
      size = static_cast<unsigned long>(v);
    } else if (arg == "--seconds") {
      seconds = v;
    } else if (arg == "--warmup") {
      warmup = v;
    } else {
      kProgram.usage("unknown argument " + arg);
    }
  }
  if (port == 0 || port > 65535) kProgram.usage("--port must be 1-65535");
  if (size == 0 || size > 65507) kProgram.usage("--size must be 1-65507");
  if (seconds <= 0) kProgram.usage("--seconds must be positive");

  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_port = htons(static_cast<std::uint16_t>(port));
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);

  const int sink = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  const int buffer = 4 << 20;  // as much as net.core.rmem_max allows
  if (sink >= 0) setsockopt(sink, SOL_SOCKET, SO_RCVBUF, &buffer, sizeof buffer);
  const timeval tick{0, 50000};
  if (sink >= 0) setsockopt(sink, SOL_SOCKET, SO_RCVTIMEO, &tick, sizeof tick);
  if (sink < 0 || bind(sink, reinterpret_cast<const sockaddr*>(&address), sizeof address) != 0) {
    std::fprintf(stderr, "udp_bench: cannot bind 127.0.0.1:%lu: %s\n", port, std::strerror(errno));
    return 1;
  }

  std::atomic<int> phase{warming};
  std::atomic<std::uint64_t> received[3] = {0, 0, 0};
  std::thread drain([&] {
    constexpr unsigned batch = 64;
    std::vector<char> storage(static_cast<std::size_t>(batch) * 65536);
    std::vector<iovec> iov(batch);
    std::vector<mmsghdr> messages(batch);
    for (unsigned i = 0; i < batch; ++i) {
      iov[i] = {storage.data() + static_cast<std::size_t>(i) * 65536, 65536};
      messages[i].msg_hdr = {};
      messages[i].msg_hdr.msg_iov = &iov[i];
      messages[i].msg_hdr.msg_iovlen = 1;
    }
    for (;;) {
      const int n = recvmmsg(sink, messages.data(), batch, MSG_WAITFORONE, nullptr);
      const int now = phase.load(std::memory_order_relaxed);
      if (n > 0) received[now].fetch_add(static_cast<std::uint64_t>(n), std::memory_order_relaxed);
      if (now == finished && n <= 0) break;
    }
  });

  const int s = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  if (s < 0) {
    std::fprintf(stderr, "udp_bench: socket: %s\n", std::strerror(errno));
    phase = finished;
    drain.join();
    return 1;
  }
  const std::vector<char> payload(size, 'u');
  const auto* to = reinterpret_cast<const sockaddr*>(&address);
  std::uint64_t sent[3] = {0, 0, 0}, errors = 0;
  const auto start = Clock::now();
  const auto measure_from = start + std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(warmup));
  const auto measure_to =
      measure_from + std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(seconds));
  int current = warming;
  Clock::time_point t0 = start, t1 = start;
  if (warmup <= 0) {
    current = measuring;
    phase = measuring;
  }
  for (std::uint64_t i = 0; current != finished; ++i) {
    if (sendto(s, payload.data(), payload.size(), 0, to, sizeof address) < 0) {
      ++errors;
    } else {
      ++sent[current];
    }
    if ((i & 63) == 0) {
      const auto now = Clock::now();
      if (current == warming && now >= measure_from) {
        current = measuring;
        phase = measuring;
        t0 = now;
      } else if (current == measuring && now >= measure_to) {
        current = finished;
        phase = finished;
        t1 = now;
      }
    }
  }
  if (warmup <= 0) t0 = start;
  drain.join();  // returns once a receive times out with nothing more in flight
  close(s);
  close(sink);

  const double window = std::chrono::duration<double>(t1 - t0).count();
  const std::uint64_t got = received[measuring].load();
  if (got == 0) {
    std::fprintf(stderr, "udp_bench: nothing received in the measurement window (%llu sent, %llu send errors)\n",
                 static_cast<unsigned long long>(sent[measuring]), static_cast<unsigned long long>(errors));
    return 1;
  }
  std::printf("{\"size\": %lu, \"seconds\": %.4f, \"sent\": %llu, \"received\": %llu, \"sent_pps\": %.0f, "
              "\"received_pps\": %.0f, \"send_errors\": %llu}\n",
              size, window, static_cast<unsigned long long>(sent[measuring]), static_cast<unsigned long long>(got),
              static_cast<double>(sent[measuring]) / window, static_cast<double>(got) / window,
              static_cast<unsigned long long>(errors));
  return 0;
}
