// The preload provider loaded into this test process (main() re-executes it with
// LD_PRELOAD), against a fake registration service: real sockets, real relaying to
// loopback stand-ins for the relay, every intercepted call checked for what the
// program sees. IPv4 and IPv6. The real service is exercised by tests/e2e.

#include <arpa/inet.h>
#include <fcntl.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstring>
#include <string>

#include "provider/core/registration.h"
#include "tests/support/fake_registration_service.h"
#include "tests/support/load_preload_provider.h"

using nlohmann::json;
using sluice::test::FakeRegistrationService;

namespace {

FakeRegistrationService* service = nullptr;

struct Endpoint {
  sockaddr_storage storage{};
  socklen_t length = 0;
  const sockaddr* get() const { return reinterpret_cast<const sockaddr*>(&storage); }
  sockaddr* get() { return reinterpret_cast<sockaddr*>(&storage); }
  std::uint16_t port() const {
    return ntohs(storage.ss_family == AF_INET ? reinterpret_cast<const sockaddr_in*>(&storage)->sin_port
                                              : reinterpret_cast<const sockaddr_in6*>(&storage)->sin6_port);
  }
  std::string ip() const {
    char text[INET6_ADDRSTRLEN] = {};
    const void* bytes = storage.ss_family == AF_INET
                            ? static_cast<const void*>(&reinterpret_cast<const sockaddr_in*>(&storage)->sin_addr)
                            : static_cast<const void*>(&reinterpret_cast<const sockaddr_in6*>(&storage)->sin6_addr);
    inet_ntop(storage.ss_family, bytes, text, sizeof text);
    return text;
  }
};

Endpoint endpoint(int family, const char* ip, std::uint16_t port) {
  Endpoint e;
  if (family == AF_INET) {
    auto* a = reinterpret_cast<sockaddr_in*>(&e.storage);
    a->sin_family = AF_INET;
    a->sin_port = htons(port);
    inet_pton(AF_INET, ip, &a->sin_addr);
    e.length = sizeof(sockaddr_in);
  } else {
    auto* a = reinterpret_cast<sockaddr_in6*>(&e.storage);
    a->sin6_family = AF_INET6;
    a->sin6_port = htons(port);
    inet_pton(AF_INET6, ip, &a->sin6_addr);
    e.length = sizeof(sockaddr_in6);
  }
  return e;
}

Endpoint local_of(int fd) {
  Endpoint e;
  e.length = sizeof e.storage;
  ::getsockname(fd, e.get(), &e.length);
  return e;
}

Endpoint peer_of(int fd) {
  Endpoint e;
  e.length = sizeof e.storage;
  if (::getpeername(fd, e.get(), &e.length) != 0) e.length = 0;
  return e;
}

// A bound loopback socket standing in for a relay listener or UDP association.
int bound_socket(int family, int type, const char* ip) {
  const int fd = ::socket(family, type | SOCK_CLOEXEC, 0);
  Endpoint any = endpoint(family, ip, 0);
  if (::bind(fd, any.get(), any.length) != 0) return -1;
  if (type == SOCK_STREAM) ::listen(fd, 16);
  return fd;
}

json relay_answer(const Endpoint& relay, std::uint64_t flow_id, const char* fail_mode = "open", int timeout_ms = 250) {
  return json{{"verdict", "relay"}, {"flow_id", flow_id}, {"relay", relay.ip()}, {"relay_port", relay.port()},
              {"fail_mode", fail_mode}, {"timeout_ms", timeout_ms}};
}

json verdict(const char* v, const char* fail_mode = "open", int timeout_ms = 250) {
  return json{{"verdict", v}, {"fail_mode", fail_mode}, {"timeout_ms", timeout_ms}};
}

// Relays flows to `port` only: this process also plays the relay, whose replies
// must go direct (the real service is never steered).
FakeRegistrationService::Decide relay_port_only(std::uint16_t port, json answer) {
  return [port, answer](const json& p) { return p["port"] == port ? answer : verdict("direct"); };
}

bool readable(int fd, int ms = 5000) {
  pollfd p{fd, POLLIN, 0};
  return ::poll(&p, 1, ms) == 1;
}

class PreloadTest : public ::testing::TestWithParam<int> {
 protected:
  void SetUp() override {
    family_ = GetParam();
    loopback_ = family_ == AF_INET ? "127.0.0.1" : "::1";
    // The original destinations: loopback addresses where nothing listens, so a
    // flow that went direct by mistake fails instead of reaching anything.
    nowhere_ = family_ == AF_INET ? "127.0.0.2" : "::1";
    const int probe = bound_socket(family_, SOCK_DGRAM, loopback_);
    // Both families are part of the contract: a machine without one fails, not skips.
    ASSERT_GE(probe, 0) << "cannot bind " << loopback_ << ": this test needs IPv4 and IPv6 loopback";
    ::close(probe);
    service->clear();
  }
  void TearDown() override { service->set_decide(nullptr); }

  int family_ = AF_INET;
  const char* loopback_ = "";
  const char* nowhere_ = "";
};

TEST_P(PreloadTest, RelayedTcpConnectGoesToTheRelayAndReportsTheOriginalPeer) {
  const int relay = bound_socket(family_, SOCK_STREAM, loopback_);
  const Endpoint relay_at = local_of(relay);
  service->set_decide([&](const json&) { return relay_answer(relay_at, 1); });

  const int fd = ::socket(family_, SOCK_STREAM, 0);
  const Endpoint destination = endpoint(family_, nowhere_, 9);
  ASSERT_EQ(::connect(fd, destination.get(), destination.length), 0) << std::strerror(errno);
  const int accepted = ::accept(relay, nullptr, nullptr);
  ASSERT_GE(accepted, 0);

  const auto registrations = service->registrations();
  ASSERT_EQ(registrations.size(), 1u);
  const json& p = registrations[0].params;
  EXPECT_EQ(p["protocol"], "tcp");
  EXPECT_EQ(p["destination"], nowhere_);
  EXPECT_EQ(p["port"], 9);
  EXPECT_EQ(p["local"], family_ == AF_INET ? "0.0.0.0" : "::");  // bound to the wildcard before registering
  EXPECT_EQ(p["local_port"], local_of(fd).port());
  EXPECT_EQ(peer_of(accepted).port(), local_of(fd).port());  // the relay recognises it by that port
  EXPECT_EQ(registrations[0].pid, ::getpid());

  const Endpoint peer = peer_of(fd);
  EXPECT_EQ(peer.ip(), nowhere_);
  EXPECT_EQ(peer.port(), 9);
  ASSERT_EQ(::write(fd, "x", 1), 1);
  char c = 0;
  EXPECT_EQ(::read(accepted, &c, 1), 1);
  for (int s : {fd, accepted, relay}) ::close(s);
}

TEST_P(PreloadTest, NonBlockingRelayedConnectCompletesAndAskingAgainDoesNotRegisterAgain) {
  const int relay = bound_socket(family_, SOCK_STREAM, loopback_);
  const Endpoint relay_at = local_of(relay);
  service->set_decide([&](const json&) { return relay_answer(relay_at, 2); });

  const int fd = ::socket(family_, SOCK_STREAM | SOCK_NONBLOCK, 0);
  const Endpoint destination = endpoint(family_, nowhere_, 10);
  const int result = ::connect(fd, destination.get(), destination.length);
  ASSERT_TRUE(result == 0 || errno == EINPROGRESS) << std::strerror(errno);
  pollfd p{fd, POLLOUT, 0};
  ASSERT_EQ(::poll(&p, 1, 5000), 1);
  int error = -1;
  socklen_t length = sizeof error;
  ::getsockopt(fd, SOL_SOCKET, SO_ERROR, &error, &length);
  EXPECT_EQ(error, 0);
  // Programs that poll by calling connect again get the kernel's answer for the relay
  // connection: 0 once it completed, then EISCONN.
  const int again = ::connect(fd, destination.get(), destination.length);
  EXPECT_TRUE(again == 0 || errno == EISCONN) << std::strerror(errno);
  EXPECT_EQ(service->registrations().size(), 1u);
  EXPECT_EQ(peer_of(fd).port(), 10);
  ::close(fd);
  ::close(relay);
}

TEST_P(PreloadTest, BlockedTcpConnectIsRefused) {
  service->set_decide([](const json&) { return verdict("block"); });
  const int fd = ::socket(family_, SOCK_STREAM, 0);
  const Endpoint destination = endpoint(family_, nowhere_, 11);
  EXPECT_EQ(::connect(fd, destination.get(), destination.length), -1);
  EXPECT_EQ(errno, ECONNREFUSED);
  ::close(fd);
}

// Whoever answers may not send the program's traffic off the machine: a relay that
// is not loopback makes the answer no answer, and the fail mode (open) lets the
// connect go to its own destination.
TEST_P(PreloadTest, ARelayAddressOffTheMachineIsNoAnswer) {
  const int server = bound_socket(family_, SOCK_STREAM, loopback_);
  const Endpoint destination = local_of(server);
  const Endpoint elsewhere = endpoint(family_, family_ == AF_INET ? "192.0.2.7" : "2001:db8::7", 9);
  service->set_decide([&](const json& p) {
    return p["port"] == destination.port() ? relay_answer(elsewhere, 5) : verdict("direct");
  });
  const int fd = ::socket(family_, SOCK_STREAM, 0);
  ASSERT_EQ(::connect(fd, destination.get(), destination.length), 0) << std::strerror(errno);
  EXPECT_EQ(service->registrations().size(), 1u);
  const int accepted = ::accept(server, nullptr, nullptr);
  EXPECT_GE(accepted, 0) << "the connect did not reach its own destination";
  EXPECT_EQ(peer_of(fd).port(), destination.port());
  for (int s : {fd, accepted, server}) ::close(s);
}

// Nor may whoever answers make the program build a tree of its choosing: an answer
// nested past the provider's bound is no answer (fail mode open: the connect goes
// to its own destination); the same answer at the bound is acted on (blocked).
TEST_P(PreloadTest, AnAnswerNestedPastTheBoundIsNoAnswer) {
  const int server = bound_socket(family_, SOCK_STREAM, loopback_);
  const Endpoint destination = local_of(server);
  // The response and its result are two levels; "extra" holds the rest.
  auto block_nested = [](std::size_t depth) {
    json extra = json::array();
    for (std::size_t i = 3; i < depth; ++i) extra = json::array({extra});
    json answer = verdict("block");
    answer["extra"] = extra;
    return answer;
  };
  service->set_decide([&](const json&) { return block_nested(::sluice::provider::kMaxAnswerDepth); });
  int fd = ::socket(family_, SOCK_STREAM, 0);
  EXPECT_EQ(::connect(fd, destination.get(), destination.length), -1) << "an answer at the bound was not acted on";
  EXPECT_EQ(errno, ECONNREFUSED);
  ::close(fd);

  service->set_decide([&](const json&) { return block_nested(::sluice::provider::kMaxAnswerDepth + 1); });
  fd = ::socket(family_, SOCK_STREAM, 0);
  ASSERT_EQ(::connect(fd, destination.get(), destination.length), 0) << std::strerror(errno);
  EXPECT_EQ(service->registrations().size(), 2u);
  const int accepted = ::accept(server, nullptr, nullptr);
  EXPECT_GE(accepted, 0) << "the connect did not reach its own destination";
  for (int s : {fd, accepted, server}) ::close(s);
}

TEST_P(PreloadTest, DirectTcpConnectReachesTheDestinationItself) {
  const int server = bound_socket(family_, SOCK_STREAM, loopback_);
  service->set_decide([](const json&) { return verdict("direct"); });
  const int fd = ::socket(family_, SOCK_STREAM, 0);
  const Endpoint destination = local_of(server);
  ASSERT_EQ(::connect(fd, destination.get(), destination.length), 0);
  const int accepted = ::accept(server, nullptr, nullptr);
  EXPECT_GE(accepted, 0);
  EXPECT_EQ(peer_of(fd).port(), destination.port());
  for (int s : {fd, accepted, server}) ::close(s);
}

TEST_P(PreloadTest, RelayedUdpGoesToTheAssociationAndRepliesComeFromTheDestination) {
  const int association = bound_socket(family_, SOCK_DGRAM, loopback_);
  const Endpoint association_at = local_of(association);
  service->set_decide(relay_port_only(5300, relay_answer(association_at, 30)));

  const int fd = ::socket(family_, SOCK_DGRAM, 0);
  const Endpoint destination = endpoint(family_, nowhere_, 5300);
  for (int i = 0; i < 3; ++i) ASSERT_EQ(::sendto(fd, "ping", 4, 0, destination.get(), destination.length), 4);
  EXPECT_EQ(service->registrations().size(), 1u) << "the verdict is cached per socket and destination";
  EXPECT_EQ(service->registrations()[0].params["protocol"], "udp");

  // sendmsg and sendmmsg are steered the same way.
  iovec iov{const_cast<char*>("msg"), 3};
  msghdr m{};
  m.msg_name = const_cast<sockaddr*>(destination.get());
  m.msg_namelen = destination.length;
  m.msg_iov = &iov;
  m.msg_iovlen = 1;
  ASSERT_EQ(::sendmsg(fd, &m, 0), 3);
  mmsghdr batch[2] = {{m, 0}, {m, 0}};
  ASSERT_EQ(::sendmmsg(fd, batch, 2, 0), 2);
  EXPECT_EQ(batch[1].msg_len, 3u) << "the byte counts reach the program's own array";

  Endpoint from;
  char buffer[16];
  for (int i = 0; i < 6; ++i) {
    ASSERT_TRUE(readable(association));
    from.length = sizeof from.storage;
    ASSERT_GT(::recvfrom(association, buffer, sizeof buffer, 0, from.get(), &from.length), 0);
    EXPECT_EQ(from.port(), local_of(fd).port());
  }
  // Replies through each receive call carry the original destination.
  for (int call = 0; call < 3; ++call) {
    ASSERT_EQ(::sendto(association, "pong", 4, 0, from.get(), from.length), 4);
    ASSERT_TRUE(readable(fd));
    Endpoint source;
    source.length = sizeof source.storage;
    if (call == 0) {
      ASSERT_EQ(::recvfrom(fd, buffer, sizeof buffer, 0, source.get(), &source.length), 4);
    } else if (call == 1) {
      iovec in{buffer, sizeof buffer};
      msghdr r{};
      r.msg_name = &source.storage;
      r.msg_namelen = sizeof source.storage;
      r.msg_iov = &in;
      r.msg_iovlen = 1;
      ASSERT_EQ(::recvmsg(fd, &r, 0), 4);
      source.length = r.msg_namelen;
    } else {
      iovec in{buffer, sizeof buffer};
      mmsghdr r{};
      r.msg_hdr.msg_name = &source.storage;
      r.msg_hdr.msg_namelen = sizeof source.storage;
      r.msg_hdr.msg_iov = &in;
      r.msg_hdr.msg_iovlen = 1;
      ASSERT_EQ(::recvmmsg(fd, &r, 1, 0, nullptr), 1);
      source.length = r.msg_hdr.msg_namelen;
    }
    EXPECT_EQ(source.ip(), nowhere_) << "call " << call;
    EXPECT_EQ(source.port(), 5300) << "call " << call;
  }
  ::close(fd);
  EXPECT_TRUE(service->wait_for_releases(1)) << "closing the socket releases its association";
  EXPECT_EQ(service->releases(), std::vector<std::uint64_t>{30});
  ::close(association);
}

TEST_P(PreloadTest, ConnectedUdpReportsTheOriginalPeerAndSendsToTheAssociation) {
  const int association = bound_socket(family_, SOCK_DGRAM, loopback_);
  const Endpoint association_at = local_of(association);
  service->set_decide(relay_port_only(5301, relay_answer(association_at, 31)));
  const int fd = ::socket(family_, SOCK_DGRAM, 0);
  const Endpoint destination = endpoint(family_, nowhere_, 5301);
  ASSERT_EQ(::connect(fd, destination.get(), destination.length), 0);
  EXPECT_EQ(peer_of(fd).port(), 5301);
  EXPECT_EQ(peer_of(fd).ip(), nowhere_);
  ASSERT_EQ(::send(fd, "hi", 2, 0), 2);
  ASSERT_TRUE(readable(association));
  char buffer[8];
  EXPECT_EQ(::recv(association, buffer, sizeof buffer, 0), 2);
  ::close(fd);
  ::close(association);
}

TEST_P(PreloadTest, BlockedDatagramsAreRefusedWithPermissionDenied) {
  service->set_decide([](const json&) { return verdict("block"); });
  const int fd = ::socket(family_, SOCK_DGRAM, 0);
  const Endpoint destination = endpoint(family_, nowhere_, 5302);
  EXPECT_EQ(::sendto(fd, "x", 1, 0, destination.get(), destination.length), -1);
  EXPECT_EQ(errno, EACCES);
  ::close(fd);
}

TEST_P(PreloadTest, NonMatchingDatagramsPassWithOneQuestionPerDestination) {
  const int server = bound_socket(family_, SOCK_DGRAM, loopback_);
  const Endpoint to = local_of(server);
  service->set_decide([](const json&) { return verdict("direct"); });
  const int fd = ::socket(family_, SOCK_DGRAM, 0);
  for (int i = 0; i < 100; ++i) ASSERT_EQ(::sendto(fd, "d", 1, 0, to.get(), to.length), 1);
  EXPECT_EQ(service->registrations().size(), 1u);
  char c;
  EXPECT_EQ(::recv(server, &c, 1, 0), 1);
  ::close(fd);
  ::close(server);
}

TEST_P(PreloadTest, DupSharesTheRelayAndOnlyTheLastCloseReleasesIt) {
  const int association = bound_socket(family_, SOCK_DGRAM, loopback_);
  const Endpoint association_at = local_of(association);
  service->set_decide(relay_port_only(5303, relay_answer(association_at, 32)));
  const int fd = ::socket(family_, SOCK_DGRAM, 0);
  const Endpoint destination = endpoint(family_, nowhere_, 5303);
  ASSERT_EQ(::connect(fd, destination.get(), destination.length), 0);
  const int copy = ::dup(fd);
  const int copy2 = ::fcntl(fd, F_DUPFD_CLOEXEC, 100);
  ::close(fd);
  EXPECT_EQ(peer_of(copy).port(), 5303);
  EXPECT_EQ(peer_of(copy2).port(), 5303);
  ::close(copy);
  EXPECT_TRUE(service->releases().empty());
  ::close(copy2);
  EXPECT_TRUE(service->wait_for_releases(1));
  ::close(association);
}

// sluiced hangs up on a provider that stayed silent past its idle timeout (60 s),
// and a program may well keep a relayed socket longer than that. Closing it
// afterwards must still release the association, on a fresh connection: a lost
// release leaves it open in the service until it idles out.
TEST_P(PreloadTest, AReleaseAfterTheServiceHungUpStillArrives) {
  const int association = bound_socket(family_, SOCK_DGRAM, loopback_);
  service->set_decide(relay_port_only(5305, relay_answer(local_of(association), 34)));
  const int fd = ::socket(family_, SOCK_DGRAM, 0);
  const Endpoint destination = endpoint(family_, nowhere_, 5305);
  ASSERT_EQ(::sendto(fd, "x", 1, 0, destination.get(), destination.length), 1);
  ASSERT_EQ(service->registrations().size(), 1u);
  service->drop_clients();
  ::close(fd);
  EXPECT_TRUE(service->wait_for_releases(1)) << "the release was lost with the old connection";
  EXPECT_EQ(service->releases(), std::vector<std::uint64_t>{34});
  ::close(association);
}

TEST_P(PreloadTest, AForkedChildRegistersAsItself) {
  const int relay = bound_socket(family_, SOCK_STREAM, loopback_);
  const Endpoint relay_at = local_of(relay);
  service->set_decide([&](const json&) { return relay_answer(relay_at, 3); });
  // The parent's kept connection must not be the one the child speaks on.
  const int warm = ::socket(family_, SOCK_STREAM, 0);
  const Endpoint destination = endpoint(family_, nowhere_, 12);
  ASSERT_EQ(::connect(warm, destination.get(), destination.length), 0);

  const pid_t child = ::fork();
  if (child == 0) {
    const int fd = ::socket(family_, SOCK_STREAM, 0);
    const bool ok = ::connect(fd, destination.get(), destination.length) == 0 && peer_of(fd).port() == 12;
    ::_exit(ok ? 0 : 1);
  }
  int status = 0;
  ::waitpid(child, &status, 0);
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0);
  const auto registrations = service->registrations();
  ASSERT_EQ(registrations.size(), 2u);
  EXPECT_EQ(registrations[0].pid, ::getpid());
  EXPECT_EQ(registrations[1].pid, child);
  ::close(warm);
  ::close(relay);
}

TEST_P(PreloadTest, ARelayedSocketKeepsItsOriginalPeerAcrossExec) {
  const int association = bound_socket(family_, SOCK_DGRAM, loopback_);
  const Endpoint association_at = local_of(association);
  service->set_decide(relay_port_only(5304, relay_answer(association_at, 33)));
  const int fd = ::socket(family_, SOCK_DGRAM, 0);  // inherited: no SOCK_CLOEXEC
  const Endpoint destination = endpoint(family_, nowhere_, 5304);
  ASSERT_EQ(::connect(fd, destination.get(), destination.length), 0);

  const pid_t child = ::fork();
  if (child == 0) {
    const std::string fd_text = std::to_string(fd);
    ::setenv("SLUICE_TEST_EXEC_FD", fd_text.c_str(), 1);
    ::setenv("SLUICE_TEST_EXEC_PEER", nowhere_, 1);
    ::execl("/proc/self/exe", "preload_test", static_cast<char*>(nullptr));
    ::_exit(127);
  }
  int status = 0;
  ::waitpid(child, &status, 0);
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << "the exec'd image did not see the original peer";
  ::close(fd);
  ::close(association);
}

TEST_P(PreloadTest, SilenceFallsBackToTheFailModeTheServiceLastNamed) {
  const int server = bound_socket(family_, SOCK_STREAM, loopback_);
  const Endpoint reachable = local_of(server);
  // The service says: fail closed, and do not wait for me more than 100 ms.
  service->set_decide([](const json&) { return verdict("direct", "closed", 100); });
  int fd = ::socket(family_, SOCK_STREAM, 0);
  ASSERT_EQ(::connect(fd, reachable.get(), reachable.length), 0);
  ::close(fd);

  service->set_decide([](const json&) { return json(); });  // silence
  const auto started = std::chrono::steady_clock::now();
  fd = ::socket(family_, SOCK_STREAM, 0);
  EXPECT_EQ(::connect(fd, reachable.get(), reachable.length), -1);
  EXPECT_EQ(errno, ECONNREFUSED);
  ::close(fd);
  // Not a timing measurement: a bound on "never hangs".
  EXPECT_LT(std::chrono::steady_clock::now() - started, std::chrono::seconds(3));

  // Fail open: the flow goes direct.
  service->set_decide([](const json&) { return verdict("direct", "open", 100); });
  fd = ::socket(family_, SOCK_STREAM, 0);
  ASSERT_EQ(::connect(fd, reachable.get(), reachable.length), 0);
  ::close(fd);
  service->set_decide([](const json&) { return json(); });
  fd = ::socket(family_, SOCK_STREAM, 0);
  EXPECT_EQ(::connect(fd, reachable.get(), reachable.length), 0);
  ::close(fd);
  ::close(server);
}

INSTANTIATE_TEST_SUITE_P(Families, PreloadTest, ::testing::Values(AF_INET, AF_INET6),
                         [](const auto& info) { return info.param == AF_INET ? "IPv4" : "IPv6"; });

TEST(PreloadPassThrough, UnixSocketsAreNeverAskedAbout) {
  service->clear();
  int pair[2];
  ASSERT_EQ(::socketpair(AF_UNIX, SOCK_DGRAM, 0, pair), 0);
  ASSERT_EQ(::send(pair[0], "u", 1, 0), 1);
  const int fd = ::socket(AF_UNIX, SOCK_DGRAM, 0);
  sockaddr_un nowhere{};
  nowhere.sun_family = AF_UNIX;
  std::strcpy(nowhere.sun_path, "/nonexistent/socket");
  EXPECT_EQ(::sendto(fd, "u", 1, 0, reinterpret_cast<sockaddr*>(&nowhere), sizeof nowhere), -1);
  EXPECT_EQ(errno, ENOENT) << "the kernel's own error, untouched";
  EXPECT_TRUE(service->registrations().empty());
  for (int s : {fd, pair[0], pair[1]}) ::close(s);
}

// The image exec'd by ARelayedSocketKeepsItsOriginalPeerAcrossExec: its exit status
// says whether it sees the original peer on the socket it inherited.
int exec_child(int fd, const char* expected_peer) {
  const Endpoint peer = peer_of(fd);
  if (peer.ip() != expected_peer || peer.port() != 5304) {
    std::fprintf(stderr, "exec'd image sees peer %s port %u\n", peer.ip().c_str(), peer.port());
    return 1;
  }
  if (std::getenv("SLUICE_PROVIDER_HANDOFF") != nullptr) {
    std::fprintf(stderr, "the handoff was not taken back\n");
    return 1;
  }
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  sluice::test::load_preload_provider(argv, SLUICE_PRELOAD_LIBRARY, "preload-test");
  if (const char* fd = std::getenv("SLUICE_TEST_EXEC_FD")) return exec_child(std::atoi(fd), std::getenv("SLUICE_TEST_EXEC_PEER"));
  ::testing::InitGoogleTest(&argc, argv);
  FakeRegistrationService fake(std::getenv("SLUICE_CONTROL"));
  service = &fake;
  return RUN_ALL_TESTS();
}
