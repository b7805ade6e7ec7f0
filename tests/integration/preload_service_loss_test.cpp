// The preload provider (loaded into this test process, as in preload_test.cpp) when
// the service that set up a UDP relay goes away. The service is a fake one in a
// forked child, so that killing it is what killing sluiced is, and a restarted one
// is another process. An unconnected UDP socket hears nothing from the kernel when
// its association's port closes: the provider must say it, once, with the error a
// connected socket gets (ECONNREFUSED), and then treat the next datagram as a new
// flow. A service that merely hangs up an idle connection changes nothing.

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstring>
#include <string>
#include <thread>

#include "tests/support/fake_registration_service.h"
#include "tests/support/load_preload_provider.h"

using nlohmann::json;
using sluice::test::FakeRegistrationService;

namespace {

using namespace std::chrono_literals;

sockaddr_in ipv4(const char* ip, std::uint16_t port) {
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(port);
  ::inet_pton(AF_INET, ip, &a.sin_addr);
  return a;
}

// A UDP socket on 127.0.0.1 standing in for an association the service opened.
struct Association {
  int fd = -1;
  std::uint16_t port = 0;
  Association() {
    fd = ::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    sockaddr_in a = ipv4("127.0.0.1", 0);
    ::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a);
    socklen_t length = sizeof a;
    ::getsockname(fd, reinterpret_cast<sockaddr*>(&a), &length);
    port = ntohs(a.sin_port);
  }
  ~Association() { ::close(fd); }
  // How many datagrams are waiting, taking them all; waits up to `wait` for a first one.
  int received(std::chrono::milliseconds wait = 0ms) const {
    int n = 0;
    char buffer[64];
    for (pollfd p{fd, POLLIN, 0}; ::poll(&p, 1, n == 0 ? static_cast<int>(wait.count()) : 0) == 1; p.revents = 0) {
      if (::recv(fd, buffer, sizeof buffer, 0) >= 0) ++n;
    }
    return n;
  }
};

// The fake service in a child process, relaying every UDP flow to one association.
class ServiceProcess {
 public:
  ServiceProcess(std::uint16_t association_port, std::uint64_t flow_id) {
    int ready[2], commands[2];
    if (::pipe(ready) != 0 || ::pipe(commands) != 0) return;
    pid_ = ::fork();
    if (pid_ == 0) {
      ::close(ready[0]);
      ::close(commands[1]);
      {
        FakeRegistrationService service(std::getenv("SLUICE_CONTROL"));
        service.set_decide([=](const json&) {
          return json{{"verdict", "relay"}, {"flow_id", flow_id}, {"relay", "127.0.0.1"},
                      {"relay_port", association_port}, {"fail_mode", "open"}, {"timeout_ms", 250}};
        });
        if (::write(ready[1], "r", 1) != 1) ::_exit(1);
        char command;
        while (::read(commands[0], &command, 1) == 1) {
          if (command == 'd') service.drop_clients();
        }
      }
      ::_exit(0);
    }
    ::close(ready[1]);
    ::close(commands[0]);
    commands_ = commands[1];
    pollfd p{ready[0], POLLIN, 0};
    char r;
    listening_ = ::poll(&p, 1, 5000) == 1 && ::read(ready[0], &r, 1) == 1;
    ::close(ready[0]);
  }
  ~ServiceProcess() { kill(); }
  bool listening() const { return listening_; }
  void drop_clients() { ASSERT_EQ(::write(commands_, "d", 1), 1); }
  void kill() {
    if (pid_ <= 0) return;
    ::kill(pid_, SIGKILL);
    ::waitpid(pid_, nullptr, 0);
    ::close(commands_);
    pid_ = -1;
  }

 private:
  pid_t pid_ = -1;
  int commands_ = -1;
  bool listening_ = false;
};

// A datagram to 127.0.0.2:9, where nothing listens: only a relay makes it arrive anywhere.
ssize_t send_datagram(int fd) {
  const sockaddr_in nowhere = ipv4("127.0.0.2", 9);
  return ::sendto(fd, "d", 1, 0, reinterpret_cast<const sockaddr*>(&nowhere), sizeof nowhere);
}

// Sends a datagram every 20 ms until one fails (then errno holds why), at most 3 s:
// how a program sending steadily meets its relay's loss. False when none failed.
bool send_until_failure(int fd) {
  for (int i = 0; i < 150; ++i) {
    if (send_datagram(fd) < 0) return true;
    std::this_thread::sleep_for(20ms);
  }
  return false;
}

TEST(PreloadServiceLoss, ADatagramAfterTheServiceDiedFailsOnceThenFollowsTheFailMode) {
  Association association;
  ServiceProcess service(association.port, 1);
  ASSERT_TRUE(service.listening());
  const int fd = ::socket(AF_INET, SOCK_DGRAM, 0);
  ASSERT_EQ(send_datagram(fd), 1);
  ASSERT_EQ(association.received(5000ms), 1) << "relayed to the association";

  service.kill();
  ASSERT_TRUE(send_until_failure(fd)) << "the program was never told its relay is gone";
  EXPECT_EQ(errno, ECONNREFUSED);
  association.received();  // what went before the provider noticed

  // The next datagram is a new flow: no service, so the fail mode it named (open): direct.
  EXPECT_EQ(send_datagram(fd), 1) << std::strerror(errno);
  EXPECT_EQ(association.received(200ms), 0) << "not to the dead association";
  ::close(fd);
}

TEST(PreloadServiceLoss, ARestartedServiceIsAskedAgain) {
  Association old_association, new_association;
  ServiceProcess first(old_association.port, 1);
  ASSERT_TRUE(first.listening());
  const int fd = ::socket(AF_INET, SOCK_DGRAM, 0);
  ASSERT_EQ(send_datagram(fd), 1);
  ASSERT_EQ(old_association.received(5000ms), 1);

  first.kill();
  ServiceProcess second(new_association.port, 1);  // the same flow id: only the process tells them apart
  ASSERT_TRUE(second.listening());
  ASSERT_TRUE(send_until_failure(fd)) << "the association of the service that died was kept";
  EXPECT_EQ(errno, ECONNREFUSED);
  EXPECT_EQ(send_datagram(fd), 1) << std::strerror(errno);
  EXPECT_EQ(new_association.received(5000ms), 1) << "registered with the new service";
  ::close(fd);
}

TEST(PreloadServiceLoss, AnIdleConnectionHungUpByALiveServiceChangesNothing) {
  Association association;
  ServiceProcess service(association.port, 1);
  ASSERT_TRUE(service.listening());
  const int fd = ::socket(AF_INET, SOCK_DGRAM, 0);
  ASSERT_EQ(send_datagram(fd), 1);
  ASSERT_EQ(association.received(5000ms), 1);

  service.drop_clients();
  // Several checks' worth of datagrams: each one still reaches the association.
  for (int i = 0; i < 15; ++i) {
    ASSERT_EQ(send_datagram(fd), 1) << "datagram " << i << ": " << std::strerror(errno);
    std::this_thread::sleep_for(20ms);
  }
  EXPECT_EQ(association.received(1000ms), 15);
  ::close(fd);
}

}  // namespace

int main(int argc, char** argv) {
  sluice::test::load_preload_provider(argv, SLUICE_PRELOAD_LIBRARY, "preload-loss-test");
  ::testing::InitGoogleTest(&argc, argv);
  const int result = RUN_ALL_TESTS();
  ::unlink(std::getenv("SLUICE_CONTROL"));
  return result;
}
