// flow_load: keeps many TCP flows (and a few UDP ones) busy against an echo server
// and checks every byte that comes back. Knows nothing of Sluice: the load suite
// runs it under sluice-run with a relay rule naming this executable.
//
// TCP: opens --flows connections (blocking connect, then non-blocking), and on each
// one sends a message, waits for all of it to come back, checks it byte for byte,
// and sends the next, until --seconds have passed. Message sizes vary (mostly small,
// some up to --max-bytes) and their contents come from a per-flow generator, so a
// byte that comes back late, twice or changed is caught. Then each connection
// half-closes and waits for the server's close: a clean end, not a reset.
// UDP: --udp-flows sockets send one datagram at a time with sendto() and expect it
// back from the server's own address (recvfrom) within 5 seconds.
//
// Every loop is bounded by the deadline plus a grace period. Prints one JSON object:
// {"tcp_flows", "tcp_connected", "udp_flows", "exchanges", "datagrams", "bytes_sent",
//  "bytes_received", "slowest_ms", "slowest_connect_ms", "errors", "first_error"}
// (slowest_ms: the longest exchange, from its first byte sent to its last byte back;
// slowest_connect_ms: the longest TCP connect, which under sluice-run includes the
// flow's registration with sluiced).
//
// Usage: flow_load --connect 127.0.0.1:PORT [--flows N] [--udp-flows N] [--seconds S]
//                  [--max-bytes B] [--pause-ms MS]
// Exit status: 0 no errors, 1 errors, 2 bad usage.

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <string>
#include <vector>

#include "tests/bench/bench_args.h"

namespace {

constexpr bench::Program kProgram{
    "flow_load", "--connect 127.0.0.1:PORT [--flows N] [--udp-flows N] [--seconds S] [--max-bytes B] [--pause-ms MS]"};
using Clock = std::chrono::steady_clock;
constexpr auto kGrace = std::chrono::seconds(15);          // to finish the last exchange and close
constexpr auto kDatagramTimeout = std::chrono::seconds(5);  // loopback, one in flight: nothing should be lost
constexpr std::size_t kMaxDatagram = 1400;

// xorshift64*: cheap, deterministic, different per seed.
struct Generator {
  std::uint64_t state;
  std::uint64_t next() {
    state ^= state >> 12;
    state ^= state << 25;
    state ^= state >> 27;
    return state * 2685821657736338717ULL;
  }
  void fill(std::vector<char>& out, std::size_t size) {
    out.resize(size);
    for (std::size_t i = 0; i < size; i += 8) {
      const std::uint64_t word = next();
      std::memcpy(out.data() + i, &word, std::min<std::size_t>(8, size - i));
    }
  }
};

// Mostly small messages, a tail of large ones: what chatty protocols look like.
std::size_t message_size(Generator& g, std::size_t max_bytes) {
  const std::uint64_t r = g.next();
  const std::size_t cap = r % 100 < 80 ? 512 : r % 100 < 97 ? 16 * 1024 : max_bytes;
  return 1 + static_cast<std::size_t>((r >> 8) % std::min(cap, max_bytes));
}

struct Totals {
  std::uint64_t exchanges = 0, datagrams = 0, bytes_sent = 0, bytes_received = 0, errors = 0;
  Clock::duration slowest{};  // the longest exchange, send to last byte back
  std::string first_error;
  void error(const std::string& what) {
    if (errors++ == 0) first_error = what;
  }
};

struct Flow {
  int fd = -1;
  bool udp = false;
  int index = 0;
  Generator generator{0};
  std::vector<char> message;  // what is in flight, to compare the echo against
  std::size_t sent = 0, received = 0;
  bool closing = false;  // half-closed, waiting for the server's close
  bool done = false;
  std::uint64_t exchanges = 0;  // completed on this flow
  std::uint32_t watched = 0;
  Clock::time_point next_start{}, sent_at{};
};

struct Load {
  sockaddr_in server{};
  std::size_t max_bytes = 64 * 1024;
  Clock::duration pause{};
  Clock::time_point deadline;
  int epoll_fd = -1;
  std::vector<Flow> flows;
  Totals totals;
  std::size_t active = 0;

  // "udp flow 3 (port 40123)": the local port finds the flow in sluicectl flows.
  std::string name(const Flow& f) const {
    sockaddr_in local{};
    socklen_t length = sizeof local;
    const bool known = f.fd >= 0 && ::getsockname(f.fd, reinterpret_cast<sockaddr*>(&local), &length) == 0;
    return std::string(f.udp ? "udp" : "tcp") + " flow " + std::to_string(f.index) +
           (known ? " (port " + std::to_string(ntohs(local.sin_port)) + ")" : "");
  }

  void watch(Flow& f, std::uint32_t events) {
    if (events == f.watched) return;
    epoll_event event{events, {.ptr = &f}};
    ::epoll_ctl(epoll_fd, f.watched == 0 ? EPOLL_CTL_ADD : EPOLL_CTL_MOD, f.fd, &event);
    f.watched = events;
  }

  void finish(Flow& f, const std::string& failure) {
    if (f.done) return;
    if (!failure.empty()) totals.error(name(f) + ": " + failure);
    ::epoll_ctl(epoll_fd, EPOLL_CTL_DEL, f.fd, nullptr);
    ::close(f.fd);
    f.fd = -1;
    f.done = true;
    --active;
  }

  // Starts the next exchange, or ends the flow once the time is up.
  void start_exchange(Flow& f, Clock::time_point now) {
    if (now >= deadline) {
      if (f.udp) {
        finish(f, "");
      } else {
        ::shutdown(f.fd, SHUT_WR);
        f.closing = true;
        watch(f, EPOLLIN);
      }
      return;
    }
    if (now < f.next_start) return;  // pausing; the main loop comes back
    f.generator.fill(f.message, f.udp ? 1 + f.generator.next() % kMaxDatagram : message_size(f.generator, max_bytes));
    f.sent = f.received = 0;
    f.sent_at = now;
    if (f.udp) {
      const ssize_t n = ::sendto(f.fd, f.message.data(), f.message.size(), 0, reinterpret_cast<const sockaddr*>(&server),
                                 sizeof server);
      if (n != static_cast<ssize_t>(f.message.size())) return finish(f, std::string("sendto: ") + std::strerror(errno));
      f.sent = f.message.size();
      totals.bytes_sent += f.sent;
      watch(f, EPOLLIN);
      return;
    }
    send_some(f);
  }

  void send_some(Flow& f) {
    while (f.sent < f.message.size()) {
      const ssize_t n = ::send(f.fd, f.message.data() + f.sent, f.message.size() - f.sent, MSG_NOSIGNAL);
      if (n < 0) {
        if (errno == EAGAIN || errno == EINTR) break;
        return finish(f, std::string("send: ") + std::strerror(errno));
      }
      f.sent += static_cast<std::size_t>(n);
      totals.bytes_sent += static_cast<std::uint64_t>(n);
    }
    watch(f, f.sent < f.message.size() ? EPOLLIN | EPOLLOUT : EPOLLIN);
  }

  void exchange_done(Flow& f, Clock::time_point now) {
    ++(f.udp ? totals.datagrams : totals.exchanges);
    ++f.exchanges;
    totals.slowest = std::max(totals.slowest, now - f.sent_at);
    f.next_start = now + pause;
    f.message.clear();
    if (pause == Clock::duration::zero() || now >= deadline) start_exchange(f, now);
  }

  void receive_tcp(Flow& f, Clock::time_point now) {
    char data[65536];
    for (int round = 0; round < 16 && !f.done; ++round) {
      const ssize_t n = ::recv(f.fd, data, sizeof data, 0);
      if (n == 0) {
        if (f.closing) return finish(f, "");
        return finish(f, "the connection ended after " + std::to_string(f.received) + " of " +
                             std::to_string(f.message.size()) + " bytes");
      }
      if (n < 0) {
        if (errno == EAGAIN || errno == EINTR) return;
        return finish(f, std::string("recv: ") + std::strerror(errno));
      }
      const auto got = static_cast<std::size_t>(n);
      totals.bytes_received += got;
      if (f.received + got > f.message.size()) return finish(f, "more bytes came back than were sent");
      if (std::memcmp(data, f.message.data() + f.received, got) != 0) {
        return finish(f, "the echo differs from what was sent, within bytes " + std::to_string(f.received) + "-" +
                             std::to_string(f.received + got));
      }
      f.received += got;
      if (f.received == f.message.size()) exchange_done(f, now);
    }
  }

  void receive_udp(Flow& f, Clock::time_point now) {
    char data[65536];
    sockaddr_in from{};
    socklen_t length = sizeof from;
    const ssize_t n = ::recvfrom(f.fd, data, sizeof data, 0, reinterpret_cast<sockaddr*>(&from), &length);
    if (n < 0) {
      if (errno == EAGAIN || errno == EINTR) return;
      return finish(f, std::string("recvfrom: ") + std::strerror(errno));
    }
    if (from.sin_family != AF_INET || from.sin_port != server.sin_port || from.sin_addr.s_addr != server.sin_addr.s_addr) {
      return finish(f, "a reply came from another address than the server's");
    }
    totals.bytes_received += static_cast<std::uint64_t>(n);
    if (static_cast<std::size_t>(n) != f.message.size() || std::memcmp(data, f.message.data(), f.message.size()) != 0) {
      return finish(f, "the echoed datagram differs from what was sent");
    }
    exchange_done(f, now);
  }

  void on_event(Flow& f, std::uint32_t events) {
    const auto now = Clock::now();
    if (f.udp) return receive_udp(f, now);
    if (events & (EPOLLIN | EPOLLERR | EPOLLHUP)) receive_tcp(f, now);
    if (!f.done && (events & EPOLLOUT)) send_some(f);
  }

  // Starts paused exchanges and gives up on lost datagrams.
  void tick(Clock::time_point now) {
    for (Flow& f : flows) {
      if (f.done || f.closing) continue;
      if (f.message.empty()) {
        start_exchange(f, now);
      } else if (f.udp && now - f.sent_at > kDatagramTimeout) {
        finish(f, "no echo within 5 seconds (datagram " + std::to_string(f.exchanges + 1) + ")");
      }
    }
  }
};

bool parse_server(const std::string& text, sockaddr_in& out) {
  const auto colon = text.rfind(':');
  if (colon == std::string::npos) return false;
  out.sin_family = AF_INET;
  const unsigned long port = std::strtoul(text.c_str() + colon + 1, nullptr, 10);
  if (port == 0 || port > 65535) return false;
  out.sin_port = htons(static_cast<std::uint16_t>(port));
  return ::inet_pton(AF_INET, text.substr(0, colon).c_str(), &out.sin_addr) == 1;
}

}  // namespace

int main(int argc, char** argv) {
  Load load;
  unsigned long tcp_flows = 50, udp_flows = 0;
  double seconds = 10, pause_ms = 0;
  std::string server;
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    if (i + 1 >= argc) kProgram.usage("missing value for " + arg);
    if (arg == "--connect") {
      server = argv[++i];
    } else if (arg == "--flows") {
      tcp_flows = static_cast<unsigned long>(kProgram.number(argv[++i]));
    } else if (arg == "--udp-flows") {
      udp_flows = static_cast<unsigned long>(kProgram.number(argv[++i]));
    } else if (arg == "--seconds") {
      seconds = kProgram.number(argv[++i]);
    } else if (arg == "--max-bytes") {
      load.max_bytes = static_cast<std::size_t>(kProgram.number(argv[++i]));
    } else if (arg == "--pause-ms") {
      pause_ms = kProgram.number(argv[++i]);
    } else {
      kProgram.usage("unknown argument " + arg);
    }
  }
  if (!parse_server(server, load.server)) kProgram.usage("--connect must be IPV4:PORT");
  if (load.max_bytes == 0) kProgram.usage("--max-bytes must be at least 1");
  if (tcp_flows + udp_flows == 0 || tcp_flows + udp_flows > 10000) kProgram.usage("between 1 and 10000 flows in all");
  load.pause = std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double, std::milli>(pause_ms));
  ::signal(SIGPIPE, SIG_IGN);

  load.epoll_fd = ::epoll_create1(EPOLL_CLOEXEC);
  load.flows.resize(tcp_flows + udp_flows);
  std::uint64_t tcp_connected = 0;
  Clock::duration slowest_connect{};  // under sluice-run, this includes the flow's registration
  for (std::size_t i = 0; i < load.flows.size(); ++i) {
    Flow& f = load.flows[i];
    f.udp = i >= tcp_flows;
    f.index = static_cast<int>(f.udp ? i - tcp_flows : i);
    f.generator.state = 0x9E3779B97F4A7C15ULL * (i + 1) ^ static_cast<std::uint64_t>(::getpid());
    f.fd = ::socket(AF_INET, (f.udp ? SOCK_DGRAM : SOCK_STREAM) | SOCK_CLOEXEC, 0);
    if (f.fd < 0) {
      load.totals.error(load.name(f) + ": socket: " + std::strerror(errno));
      f.done = true;
      continue;
    }
    if (!f.udp) {
      // Blocking, so a refused or unsteerable connect shows here and not later.
      const auto connect_started = Clock::now();
      const int connected = ::connect(f.fd, reinterpret_cast<const sockaddr*>(&load.server), sizeof load.server);
      slowest_connect = std::max(slowest_connect, Clock::now() - connect_started);
      if (connected != 0) {
        load.totals.error(load.name(f) + ": connect: " + std::strerror(errno));
        ::close(f.fd);
        f.done = true;
        continue;
      }
      ++tcp_connected;
      const int one = 1;
      ::setsockopt(f.fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    }
    ::fcntl(f.fd, F_SETFL, ::fcntl(f.fd, F_GETFL) | O_NONBLOCK);
    ++load.active;
  }

  load.deadline = Clock::now() + std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(seconds));
  const auto give_up = load.deadline + kGrace;
  const auto start = Clock::now();
  for (Flow& f : load.flows) {
    if (!f.done) load.start_exchange(f, start);
  }
  epoll_event events[256];
  auto last_tick = start;
  while (load.active > 0 && Clock::now() < give_up) {
    const int n = ::epoll_wait(load.epoll_fd, events, 256, 50);
    for (int i = 0; i < n; ++i) {
      auto& f = *static_cast<Flow*>(events[i].data.ptr);
      if (!f.done) load.on_event(f, events[i].events);
    }
    const auto now = Clock::now();
    if (now - last_tick >= std::chrono::milliseconds(20) || (now >= load.deadline && last_tick < load.deadline)) {
      load.tick(now);
      last_tick = now;
    }
  }
  for (Flow& f : load.flows) {
    if (!f.done) load.finish(f, f.closing ? "the server did not close after the half-close" : "still busy after the grace period");
  }

  std::string first_error;
  for (char c : load.totals.first_error) first_error += (c == '"' || c == '\\') ? '\'' : c;
  const Totals& t = load.totals;
  std::printf("{\"tcp_flows\": %lu, \"tcp_connected\": %llu, \"udp_flows\": %lu, \"exchanges\": %llu, \"datagrams\": %llu, "
              "\"bytes_sent\": %llu, \"bytes_received\": %llu, \"slowest_ms\": %.1f, \"slowest_connect_ms\": %.1f, \"errors\": %llu, "
              "\"first_error\": \"%s\"}\n",
              tcp_flows, static_cast<unsigned long long>(tcp_connected), udp_flows,
              static_cast<unsigned long long>(t.exchanges), static_cast<unsigned long long>(t.datagrams),
              static_cast<unsigned long long>(t.bytes_sent), static_cast<unsigned long long>(t.bytes_received),
              std::chrono::duration<double, std::milli>(t.slowest).count(),
              std::chrono::duration<double, std::milli>(slowest_connect).count(), static_cast<unsigned long long>(t.errors), first_error.c_str());
  return t.errors == 0 ? 0 : 1;
}
