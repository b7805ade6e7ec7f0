// load_echo_server: the far end of the load suite's flows. Knows nothing of Sluice.
//
// One thread, one epoll set: a TCP listener and a UDP socket on 127.0.0.1:PORT. Every
// byte a TCP client sends comes back to it; when the client half-closes, the rest is
// sent and the connection closed. Every datagram goes back to its sender. Reading
// stops while a connection's buffer is full, so a slow reader slows its writer
// instead of growing memory.
//
// It runs until SIGTERM or SIGINT, or --seconds at most (every loop here ends), then
// prints one JSON object: {"accepted", "peak_connections", "bytes_echoed" (TCP),
// "datagrams_echoed", "datagrams_lost", "resets"} (lost: dropped by the kernel on
// this server's socket or not sent back; resets: connections that ended in an
// error rather than a half-close).
//
// Usage: load_echo_server --port PORT [--seconds N]
// Exit status: 0 served, 1 could not listen, 2 bad usage.

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <array>
#include <cerrno>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <memory>
#include <string>
#include <unordered_map>

#include "tests/bench/bench_args.h"

namespace {

constexpr bench::Program kProgram{"load_echo_server", "--port PORT [--seconds N]"};
constexpr std::size_t kBufferBytes = 16 * 1024;  // per connection; 3 200 of them stay near 50 MiB

volatile sig_atomic_t stop_requested = 0;
void request_stop(int) { stop_requested = 1; }

struct Connection {
  int fd = -1;
  std::array<char, kBufferBytes> buffer;
  std::size_t head = 0, size = 0;  // bytes read and not yet written back
  bool peer_done = false;          // the client half-closed
  std::uint32_t watched = EPOLLIN;
};

struct Server {
  int epoll_fd = -1, listener = -1, udp = -1;
  std::unordered_map<int, std::unique_ptr<Connection>> connections;
  std::uint64_t accepted = 0, peak = 0, bytes = 0, datagrams = 0, resets = 0, send_failures = 0;
  std::uint32_t dropped_here = 0;

  void end(Connection& c, bool reset) {
    if (reset) ++resets;
    ::epoll_ctl(epoll_fd, EPOLL_CTL_DEL, c.fd, nullptr);
    ::close(c.fd);
    connections.erase(c.fd);  // c is gone after this
  }

  void accept_all() {
    for (int i = 0; i < 256; ++i) {
      const int fd = ::accept4(listener, nullptr, nullptr, SOCK_NONBLOCK | SOCK_CLOEXEC);
      if (fd < 0) return;
      const int one = 1;
      ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
      auto c = std::make_unique<Connection>();
      c->fd = fd;
      epoll_event event{EPOLLIN, {.fd = fd}};
      ::epoll_ctl(epoll_fd, EPOLL_CTL_ADD, fd, &event);
      connections.emplace(fd, std::move(c));
      ++accepted;
      if (connections.size() > peak) peak = connections.size();
    }
  }

  // Reads what fits, writes back what it can; false when the connection ended.
  bool pump(Connection& c) {
    for (int round = 0; round < 8; ++round) {
      bool progress = false;
      if (!c.peer_done && c.size < kBufferBytes) {
        if (c.size == 0) c.head = 0;
        const std::size_t tail = (c.head + c.size) % kBufferBytes;
        const std::size_t room = tail >= c.head ? kBufferBytes - tail : c.head - tail;
        const ssize_t n = ::recv(c.fd, c.buffer.data() + tail, room, 0);
        if (n > 0) {
          c.size += static_cast<std::size_t>(n);
          progress = true;
        } else if (n == 0) {
          c.peer_done = true;
          progress = true;
        } else if (errno != EAGAIN && errno != EINTR) {
          end(c, true);
          return false;
        }
      }
      if (c.size > 0) {
        const std::size_t run = std::min(c.size, kBufferBytes - c.head);
        const ssize_t n = ::send(c.fd, c.buffer.data() + c.head, run, MSG_NOSIGNAL);
        if (n > 0) {
          c.head = (c.head + static_cast<std::size_t>(n)) % kBufferBytes;
          c.size -= static_cast<std::size_t>(n);
          bytes += static_cast<std::uint64_t>(n);
          progress = true;
        } else if (n < 0 && errno != EAGAIN && errno != EINTR) {
          end(c, true);
          return false;
        }
      }
      if (!progress) break;
    }
    if (c.peer_done && c.size == 0) {
      end(c, false);
      return false;
    }
    return true;
  }

  void update_interest(Connection& c) {
    std::uint32_t wanted = 0;
    if (!c.peer_done && c.size < kBufferBytes) wanted |= EPOLLIN;
    if (c.size > 0) wanted |= EPOLLOUT;
    if (wanted == c.watched) return;
    epoll_event event{wanted, {.fd = c.fd}};
    ::epoll_ctl(epoll_fd, EPOLL_CTL_MOD, c.fd, &event);
    c.watched = wanted;
  }

  void echo_datagrams() {
    char data[65536];
    alignas(cmsghdr) char control[CMSG_SPACE(sizeof(std::uint32_t))];
    for (int i = 0; i < 256; ++i) {
      sockaddr_storage from{};
      iovec vector{data, sizeof data};
      msghdr message{};
      message.msg_name = &from;
      message.msg_namelen = sizeof from;
      message.msg_iov = &vector;
      message.msg_iovlen = 1;
      message.msg_control = control;
      message.msg_controllen = sizeof control;
      const ssize_t n = ::recvmsg(udp, &message, 0);
      if (n < 0) return;
      // SO_RXQ_OVFL: how many datagrams the kernel dropped on this socket so far.
      for (cmsghdr* c = CMSG_FIRSTHDR(&message); c != nullptr; c = CMSG_NXTHDR(&message, c)) {
        if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SO_RXQ_OVFL) std::memcpy(&dropped_here, CMSG_DATA(c), sizeof dropped_here);
      }
      if (::sendto(udp, data, static_cast<std::size_t>(n), 0, reinterpret_cast<sockaddr*>(&from), message.msg_namelen) == n) {
        ++datagrams;
      } else {
        ++send_failures;
      }
    }
  }
};

}  // namespace

int main(int argc, char** argv) {
  unsigned long port = 0;
  double seconds = 3600;
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    if (i + 1 >= argc) kProgram.usage("missing value for " + arg);
    if (arg == "--port") {
      port = static_cast<unsigned long>(kProgram.number(argv[++i]));
    } else if (arg == "--seconds") {
      seconds = kProgram.number(argv[++i]);
    } else {
      kProgram.usage("unknown argument " + arg);
    }
  }
  if (port == 0 || port > 65535) kProgram.usage("--port must be 1-65535");

  struct sigaction action{};
  action.sa_handler = request_stop;
  ::sigaction(SIGTERM, &action, nullptr);
  ::sigaction(SIGINT, &action, nullptr);
  ::signal(SIGPIPE, SIG_IGN);

  Server s;
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_port = htons(static_cast<std::uint16_t>(port));
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  const int one = 1;
  s.listener = ::socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  s.udp = ::socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  s.epoll_fd = ::epoll_create1(EPOLL_CLOEXEC);
  if (s.listener < 0 || s.udp < 0 || s.epoll_fd < 0) {
    std::fprintf(stderr, "load_echo_server: %s\n", std::strerror(errno));
    return 1;
  }
  ::setsockopt(s.listener, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  if (::bind(s.listener, reinterpret_cast<sockaddr*>(&address), sizeof address) != 0 || ::listen(s.listener, 4096) != 0 ||
      ::bind(s.udp, reinterpret_cast<sockaddr*>(&address), sizeof address) != 0) {
    std::fprintf(stderr, "load_echo_server: cannot serve 127.0.0.1:%lu: %s\n", port, std::strerror(errno));
    return 1;
  }
  // One socket answers every UDP flow: room for all their datagrams at once (SO_RCVBUFFORCE
  // passes rmem_max for root), so a late turn of this loop does not drop any.
  const int udp_buffer = 8 * 1024 * 1024;
  if (::setsockopt(s.udp, SOL_SOCKET, SO_RCVBUFFORCE, &udp_buffer, sizeof udp_buffer) != 0) {
    ::setsockopt(s.udp, SOL_SOCKET, SO_RCVBUF, &udp_buffer, sizeof udp_buffer);
  }
  ::setsockopt(s.udp, SOL_SOCKET, SO_RXQ_OVFL, &one, sizeof one);
  epoll_event listen_event{EPOLLIN, {.fd = s.listener}};
  epoll_event udp_event{EPOLLIN, {.fd = s.udp}};
  ::epoll_ctl(s.epoll_fd, EPOLL_CTL_ADD, s.listener, &listen_event);
  ::epoll_ctl(s.epoll_fd, EPOLL_CTL_ADD, s.udp, &udp_event);

  const auto deadline = std::chrono::steady_clock::now() + std::chrono::duration<double>(seconds);
  epoll_event events[256];
  while (stop_requested == 0 && std::chrono::steady_clock::now() < deadline) {
    const int n = ::epoll_wait(s.epoll_fd, events, 256, 200);
    for (int i = 0; i < n; ++i) {
      const int fd = events[i].data.fd;
      if (fd == s.listener) {
        s.accept_all();
      } else if (fd == s.udp) {
        s.echo_datagrams();
      } else if (auto it = s.connections.find(fd); it != s.connections.end()) {
        Connection& c = *it->second;
        if (s.pump(c)) s.update_interest(c);
      }
    }
  }
  for (auto& [fd, c] : s.connections) ::close(fd);
  std::printf("{\"accepted\": %llu, \"peak_connections\": %llu, \"bytes_echoed\": %llu, \"datagrams_echoed\": %llu, "
              "\"datagrams_lost\": %llu, \"resets\": %llu}\n",
              static_cast<unsigned long long>(s.accepted), static_cast<unsigned long long>(s.peak),
              static_cast<unsigned long long>(s.bytes), static_cast<unsigned long long>(s.datagrams),
              static_cast<unsigned long long>(s.dropped_here + s.send_failures), static_cast<unsigned long long>(s.resets));
  return 0;
}
