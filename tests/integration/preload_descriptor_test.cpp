// The preload provider's control connection against programs that close every
// descriptor and reuse the numbers: close_range, a close() loop, a raw close system
// call the provider never sees, dup2 over it, and a daemonizing fork. The program
// (this binary run again, see closer_program) then puts a file or a socket holding
// unread data on the number the connection had and makes a relayed connect: the
// file must stay empty, the socket's data must be there for the program, and the
// connect must still be relayed (the provider opened a new connection). IPv4, IPv6.

#include <arpa/inet.h>
#include <dirent.h>
#include <fcntl.h>
#include <gtest/gtest.h>
#include <linux/close_range.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>

#include "tests/support/fake_registration_service.h"
#include "tests/support/load_preload_provider.h"

using nlohmann::json;
using sluice::test::FakeRegistrationService;

namespace {

constexpr std::uint16_t kRelayedPort = 7100;

sockaddr_storage address_of(int family, const char* ip, std::uint16_t port, socklen_t& length) {
  sockaddr_storage s{};
  if (family == AF_INET) {
    auto* a = reinterpret_cast<sockaddr_in*>(&s);
    a->sin_family = AF_INET;
    a->sin_port = htons(port);
    inet_pton(AF_INET, ip, &a->sin_addr);
    length = sizeof(sockaddr_in);
  } else {
    auto* a = reinterpret_cast<sockaddr_in6*>(&s);
    a->sin6_family = AF_INET6;
    a->sin6_port = htons(port);
    inet_pton(AF_INET6, ip, &a->sin6_addr);
    length = sizeof(sockaddr_in6);
  }
  return s;
}

std::uint16_t port_of(const sockaddr_storage& s) {
  return ntohs(s.ss_family == AF_INET ? reinterpret_cast<const sockaddr_in*>(&s)->sin_port
                                      : reinterpret_cast<const sockaddr_in6*>(&s)->sin6_port);
}

// ---- The program under test (runs with the provider loaded, in a child) ----

// Nowhere listens at the destination: a connect that is not relayed fails.
const char* nowhere(int family) { return family == AF_INET ? "127.0.0.2" : "::1"; }

bool relayed_connect(int family) {
  socklen_t length = 0;
  const sockaddr_storage to = address_of(family, nowhere(family), kRelayedPort, length);
  const int fd = ::socket(family, SOCK_STREAM, 0);
  if (fd < 0) return false;
  bool ok = ::connect(fd, reinterpret_cast<const sockaddr*>(&to), length) == 0;
  sockaddr_storage peer{};
  socklen_t peer_length = sizeof peer;
  ok = ok && ::getpeername(fd, reinterpret_cast<sockaddr*>(&peer), &peer_length) == 0 && port_of(peer) == kRelayedPort;
  ::close(fd);
  return ok;
}

// The highest socket descriptor: the provider's connection, the program's own
// sockets being closed by then.
int highest_socket() {
  int highest = -1;
  DIR* dir = ::opendir("/proc/self/fd");
  if (dir == nullptr) return -1;
  for (int i = 0; i < 100000; ++i) {
    const dirent* entry = ::readdir(dir);
    if (entry == nullptr) break;
    const int fd = std::atoi(entry->d_name);
    char target[64] = {};
    const std::string link = std::string("/proc/self/fd/") + entry->d_name;
    if (::readlink(link.c_str(), target, sizeof target - 1) > 0 && std::strncmp(target, "socket:", 7) == 0 && fd > highest) {
      highest = fd;
    }
  }
  ::closedir(dir);
  return highest;
}

void close_loop(int from) {
  rlimit limit{};
  ::getrlimit(RLIMIT_NOFILE, &limit);
  const int top = limit.rlim_cur == RLIM_INFINITY || limit.rlim_cur > 65536 ? 65536 : static_cast<int>(limit.rlim_cur);
  for (int fd = from; fd < top; ++fd) ::close(fd);
}

// The checks after the numbers were closed; the exit status says which failed.
// `number` is free (closed), unless `replace`: then dup2 (a file) or dup3 (a socket)
// puts the object over what is there.
int reuse_and_connect(int family, int number, const std::string& object, const char* file, bool replace) {
  // F_DUPFD on a free number, not dup2: after a raw close the provider is told nothing.
  auto place = [&](int fd) {
    if (fd == number) return true;
    const bool placed = replace ? (object == "file" ? ::dup2(fd, number) : ::dup3(fd, number, O_CLOEXEC)) == number
                                : ::fcntl(fd, F_DUPFD, number) == number;
    ::close(fd);
    return placed;
  };
  int peer = -1;
  if (object == "file") {
    const int opened = ::open(file, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    if (opened < 0) return 20;
    if (!place(opened)) return 21;
  } else {
    int pair[2];
    if (::socketpair(AF_UNIX, SOCK_STREAM, 0, pair) != 0) return 22;
    if (::write(pair[1], "payload", 7) != 7) return 23;
    if (!place(pair[0])) return 24;
    peer = pair[1];
  }
  if (!relayed_connect(family)) return 25;
  if (object == "file") {
    struct stat st {};
    if (::stat(file, &st) != 0 || st.st_size != 0) return 26;  // registration JSON in the program's file
    // Still the program's file (the provider did not close it, perhaps to reopen its own there).
    struct stat held {};
    if (::fstat(number, &held) != 0 || held.st_ino != st.st_ino || held.st_dev != st.st_dev) return 27;
  } else {
    char buffer[64];
    if (::recv(number, buffer, sizeof buffer, MSG_DONTWAIT) != 7 || std::memcmp(buffer, "payload", 7) != 0) return 28;
    pollfd p{peer, POLLIN, 0};
    if (::poll(&p, 1, 0) != 0) return 29;  // the provider wrote into the program's socket
  }
  return 0;
}

int closer_program(const std::string& method, const std::string& object, int family, const char* file) {
  ::alarm(30);  // a bound on the whole program, should anything hang
  if (method == "small_limit") {
    rlimit limit{64, 64};
    if (::setrlimit(RLIMIT_NOFILE, &limit) != 0) return 10;
  }
  if (!relayed_connect(family)) return 11;
  const int number = highest_socket();
  if (method == "small_limit" ? (number < 32 || number >= 64) : number < 900) return 12;  // not moved up
  if ((::fcntl(number, F_GETFD) & FD_CLOEXEC) == 0) return 13;

  if (method == "close_range" || method == "small_limit") {
    if (::close_range(3, ~0U, 0) != 0) return 14;
  } else if (method == "closefrom") {
    ::closefrom(3);
  } else if (method == "close_loop") {
    close_loop(3);
  } else if (method == "raw_close") {
    ::syscall(SYS_close, number);
  } else if (method == "dup2") {
    // Nothing closed first: dup2 (file) or dup3 (socket) puts the object over the number.
  } else if (method == "daemon") {
    // Classic daemonizing: fork, new session, every descriptor closed, 0-2 on /dev/null.
    const pid_t child = ::fork();
    if (child < 0) return 16;
    if (child > 0) {
      int status = 0;
      if (::waitpid(child, &status, 0) != child || !WIFEXITED(status)) return 17;
      return WEXITSTATUS(status);
    }
    ::setsid();
    close_loop(0);
    const int null = ::open("/dev/null", O_RDWR);
    if (null != 0 || ::dup2(0, 1) != 1 || ::dup2(0, 2) != 2) ::_exit(18);
    ::_exit(reuse_and_connect(family, number, object, file, false));
  } else {
    return 19;
  }
  return reuse_and_connect(family, number, object, file, method == "dup2");
}

// ---- The test, in the parent ----

FakeRegistrationService* service = nullptr;

struct Case {
  const char* method;
  const char* object;
  int family;
};

class DescriptorReuse : public ::testing::TestWithParam<Case> {};

TEST_P(DescriptorReuse, NeitherWritesToNorReadsFromTheProgramsDescriptor) {
  const Case c = GetParam();
  const char* loopback = c.family == AF_INET ? "127.0.0.1" : "::1";
  socklen_t length = 0;
  sockaddr_storage any = address_of(c.family, loopback, 0, length);
  const int relay = ::socket(c.family, SOCK_STREAM | SOCK_CLOEXEC, 0);
  ASSERT_EQ(::bind(relay, reinterpret_cast<sockaddr*>(&any), length), 0) << std::strerror(errno);
  ASSERT_EQ(::listen(relay, 16), 0);
  sockaddr_storage relay_at{};
  socklen_t relay_length = sizeof relay_at;
  ::getsockname(relay, reinterpret_cast<sockaddr*>(&relay_at), &relay_length);
  const json relayed{{"verdict", "relay"}, {"flow_id", 1},           {"relay", loopback},
                     {"relay_port", port_of(relay_at)}, {"fail_mode", "open"}, {"timeout_ms", 1000}};
  service->clear();
  service->set_decide([relayed](const json& p) { return p["port"] == kRelayedPort ? relayed : json{{"verdict", "direct"}}; });

  const std::string file = "/tmp/sluice-descriptor-test-" + std::to_string(::getpid()) + ".out";
  const pid_t child = ::fork();
  if (child == 0) {
    ::setenv("SLUICE_TEST_CLOSER", c.method, 1);
    ::setenv("SLUICE_TEST_OBJECT", c.object, 1);
    ::setenv("SLUICE_TEST_FAMILY", c.family == AF_INET ? "4" : "6", 1);
    ::setenv("SLUICE_TEST_FILE", file.c_str(), 1);
    ::execl("/proc/self/exe", "preload_descriptor_test", static_cast<char*>(nullptr));
    ::_exit(127);
  }
  int status = 0;
  ASSERT_EQ(::waitpid(child, &status, 0), child);
  ASSERT_TRUE(WIFEXITED(status)) << "the program was killed (signal " << WTERMSIG(status) << ")";
  EXPECT_EQ(WEXITSTATUS(status), 0) << "see closer_program and reuse_and_connect for what each status means";
  EXPECT_GE(service->registrations().size(), 2u);
  ::unlink(file.c_str());
  ::close(relay);
}

const Case kCases[] = {
    {"close_range", "file", AF_INET},  {"close_range", "socket", AF_INET6}, {"closefrom", "file", AF_INET6},
    {"closefrom", "socket", AF_INET},  {"close_loop", "file", AF_INET6},    {"close_loop", "socket", AF_INET},
    {"raw_close", "file", AF_INET},    {"raw_close", "socket", AF_INET6},   {"dup2", "file", AF_INET6},
    {"dup2", "socket", AF_INET},       {"daemon", "file", AF_INET},         {"daemon", "socket", AF_INET6},
    {"small_limit", "file", AF_INET6}, {"small_limit", "socket", AF_INET},
};

INSTANTIATE_TEST_SUITE_P(Programs, DescriptorReuse, ::testing::ValuesIn(kCases), [](const auto& info) {
  return std::string(info.param.method) + "_" + info.param.object + (info.param.family == AF_INET ? "_IPv4" : "_IPv6");
});

}  // namespace

int main(int argc, char** argv) {
  sluice::test::load_preload_provider(argv, SLUICE_PRELOAD_LIBRARY, "descriptor-test");
  if (const char* method = std::getenv("SLUICE_TEST_CLOSER")) {
    return closer_program(method, std::getenv("SLUICE_TEST_OBJECT"), std::getenv("SLUICE_TEST_FAMILY")[0] == '4' ? AF_INET : AF_INET6,
                          std::getenv("SLUICE_TEST_FILE"));
  }
  ::testing::InitGoogleTest(&argc, argv);
  FakeRegistrationService fake(std::getenv("SLUICE_CONTROL"));
  service = &fake;
  return RUN_ALL_TESTS();
}
