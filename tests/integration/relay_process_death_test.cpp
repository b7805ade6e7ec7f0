// The relay's process dying (SIGKILL) in the middle of a relayed TCP stream: the
// kernel closes the relay's sockets, and both programs must see a reset, never an
// end of stream, or a download cut short would look complete to a program with no
// length to check it against. The relay engine runs in a forked child that is
// killed; the application and the destination are plain sockets in this process.
// IPv4 and IPv6. Linux (the epoll backend).

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <memory>
#include <string>

#include "service/policy/address.h"
#include "service/relay/relay_engine.h"

namespace sluice::relay {
namespace {

constexpr int kWaitMs = 5000;

struct Endpoint {
  sockaddr_storage storage{};
  socklen_t length = 0;
  const sockaddr* get() const { return reinterpret_cast<const sockaddr*>(&storage); }
  std::uint16_t port() const {
    return ntohs(storage.ss_family == AF_INET ? reinterpret_cast<const sockaddr_in*>(&storage)->sin_port
                                              : reinterpret_cast<const sockaddr_in6*>(&storage)->sin6_port);
  }
};

Endpoint loopback(int family, std::uint16_t port) {
  Endpoint e;
  if (family == AF_INET) {
    auto* a = reinterpret_cast<sockaddr_in*>(&e.storage);
    a->sin_family = AF_INET;
    a->sin_port = htons(port);
    a->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    e.length = sizeof *a;
  } else {
    auto* a = reinterpret_cast<sockaddr_in6*>(&e.storage);
    a->sin6_family = AF_INET6;
    a->sin6_port = htons(port);
    a->sin6_addr = in6addr_loopback;
    e.length = sizeof *a;
  }
  return e;
}

Endpoint local_of(int fd) {
  Endpoint e;
  e.length = sizeof e.storage;
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&e.storage), &e.length);
  return e;
}

bool readable(int fd) {
  pollfd p{fd, POLLIN, 0};
  return ::poll(&p, 1, kWaitMs) == 1;
}

// What a program reading `fd` sees next: its bytes, "EOF", or "ERR:" and the errno's name.
std::string next_read(int fd) {
  if (!readable(fd)) return "<timeout>";
  char buffer[4096];
  const ssize_t n = ::recv(fd, buffer, sizeof buffer, 0);
  if (n > 0) return std::string(buffer, static_cast<std::size_t>(n));
  if (n == 0) return "EOF";
  return std::string("ERR:") + (errno == ECONNRESET ? "ECONNRESET" : std::strerror(errno));
}

class RelayProcessDeathTest : public ::testing::TestWithParam<int> {
 protected:
  void TearDown() override {
    if (relay_pid_ > 0) {
      ::kill(relay_pid_, SIGKILL);
      ::waitpid(relay_pid_, nullptr, 0);
    }
  }

  // Forks the relay: it expects one TCP flow from `app_port` to `destination_port`
  // and reports its listener's port on a pipe; 0 when it did not come up.
  std::uint16_t start_relay(std::uint16_t app_port, std::uint16_t destination_port) {
    int report[2];
    if (::pipe(report) != 0) return 0;
    relay_pid_ = ::fork();
    if (relay_pid_ == 0) {
      ::close(report[0]);
      EngineConfig config;
      config.workers = 1;
      RelayEngine engine(config);
      engine.start();
      const bool ipv6 = GetParam() == AF_INET6;
      auto flow = std::make_shared<Flow>();
      flow->id = 1;
      flow->protocol = policy::Protocol::tcp;
      flow->app_local = Address{*policy::parse_ip(ipv6 ? "::1" : "127.0.0.1"), app_port};
      flow->destination = Address{*policy::parse_ip(ipv6 ? "::1" : "127.0.0.1"), destination_port};
      engine.expect_tcp(flow);
      const std::uint16_t port = engine.tcp_listener(ipv6).port;
      if (::write(report[1], &port, sizeof port) != sizeof port) ::_exit(1);
      for (;;) ::pause();  // until the test kills it
    }
    ::close(report[1]);
    std::uint16_t port = 0;
    if (!readable(report[0]) || ::read(report[0], &port, sizeof port) != sizeof port) port = 0;
    ::close(report[0]);
    return port;
  }

  pid_t relay_pid_ = -1;
};

TEST_P(RelayProcessDeathTest, BothProgramsSeeAResetNotAnEndOfStream) {
  const int family = GetParam();
  const int listener = ::socket(family, SOCK_STREAM | SOCK_CLOEXEC, 0);
  const Endpoint any_port = loopback(family, 0);
  ASSERT_EQ(::bind(listener, any_port.get(), any_port.length), 0) << "this test needs IPv4 and IPv6 loopback";
  ASSERT_EQ(::listen(listener, 4), 0);
  const int app = ::socket(family, SOCK_STREAM | SOCK_CLOEXEC, 0);
  ASSERT_EQ(::bind(app, any_port.get(), any_port.length), 0);

  const std::uint16_t relay_port = start_relay(local_of(app).port(), local_of(listener).port());
  ASSERT_NE(relay_port, 0) << "the relay did not come up";
  const Endpoint relay = loopback(family, relay_port);
  ASSERT_EQ(::connect(app, relay.get(), relay.length), 0) << std::strerror(errno);
  ASSERT_TRUE(readable(listener));
  const int destination = ::accept4(listener, nullptr, nullptr, SOCK_CLOEXEC);
  ASSERT_GE(destination, 0);

  // A stream under way both ways, with nothing left unread anywhere.
  ASSERT_EQ(::send(destination, "part of a download", 18, MSG_NOSIGNAL), 18);
  EXPECT_EQ(next_read(app), "part of a download");
  ASSERT_EQ(::send(app, "part of an upload", 17, MSG_NOSIGNAL), 17);
  EXPECT_EQ(next_read(destination), "part of an upload");

  ASSERT_EQ(::kill(relay_pid_, SIGKILL), 0);
  ASSERT_EQ(::waitpid(relay_pid_, nullptr, 0), relay_pid_);
  relay_pid_ = -1;

  EXPECT_EQ(next_read(app), "ERR:ECONNRESET") << "the application must not take the cut-off download for a whole one";
  EXPECT_EQ(next_read(destination), "ERR:ECONNRESET") << "the destination must not take the cut-off upload for a whole one";
  for (int fd : {app, destination, listener}) ::close(fd);
}

INSTANTIATE_TEST_SUITE_P(Families, RelayProcessDeathTest, ::testing::Values(AF_INET, AF_INET6),
                         [](const auto& info) { return info.param == AF_INET ? "IPv4" : "IPv6"; });

}  // namespace
}  // namespace sluice::relay
