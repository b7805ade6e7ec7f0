// The control server's caps, attacked as an unprivileged user: a child process,
// forked before the server starts (so before any thread exists) and turned into
// `nobody`, opens many connections over the real Unix socket and holds the ones
// served, while root checks that it still gets answers and the refusals are clear.
#include <grp.h>
#include <poll.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <filesystem>
#include <map>
#include <string>

#include "control/transport/framing.h"
#include "control/transport/rpc_client.h"
#include "service/rpc/control_server.h"
#include "tests/support/temp_dir.h"

namespace sluice::service {
namespace {

using namespace std::chrono_literals;
using protocol::json;

constexpr uid_t kNobody = 65534;

// What the unprivileged child saw: how many connections were served, and each
// refusal's message with how often it came.
struct FloodResult {
  int served = 0;
  std::map<std::string, int> refused;
  int failed = 0;
};

class UserFlood {
 public:
  // Forks now; the child becomes `uid` and waits for go() before connecting `count`
  // times to `endpoint`.
  UserFlood(const std::string& endpoint, int count, uid_t uid = kNobody) {
    int go[2], result[2], release[2];
    if (::pipe(go) != 0 || ::pipe(result) != 0 || ::pipe(release) != 0) return;
    pid_ = ::fork();
    if (pid_ == 0) {
      ::close(go[1]);
      ::close(result[0]);
      ::close(release[1]);
      run_child(endpoint, count, uid, go[0], result[1], release[0]);
    }
    ::close(go[0]);
    ::close(result[1]);
    ::close(release[0]);
    go_ = go[1];
    result_ = result[0];
    release_ = release[1];
  }
  ~UserFlood() {
    if (release_ >= 0) ::close(release_);
    if (go_ >= 0) ::close(go_);
    if (result_ >= 0) ::close(result_);
    if (pid_ > 0) {
      for (int i = 0; i < 100; ++i) {  // bounded: the child exits when released
        int status;
        if (::waitpid(pid_, &status, WNOHANG) == pid_) return;
        ::usleep(50'000);
      }
      ::kill(pid_, SIGKILL);
      ::waitpid(pid_, nullptr, 0);
    }
  }
  bool started() const { return pid_ > 0; }

  // Lets the child connect and returns what it saw (it holds its connections until
  // this object is destroyed).
  FloodResult go() {
    FloodResult out;
    char byte = 1;
    if (::write(go_, &byte, 1) != 1) return out;
    std::string text;
    char buffer[4096];
    for (int i = 0; i < 600; ++i) {  // at most 60 s
      pollfd p{result_, POLLIN, 0};
      if (::poll(&p, 1, 100) <= 0) continue;
      const ssize_t n = ::read(result_, buffer, sizeof buffer);
      if (n <= 0) break;
      text.append(buffer, static_cast<std::size_t>(n));
      if (text.find("end\n") != std::string::npos) break;
    }
    std::size_t at = 0;
    for (std::size_t nl; (nl = text.find('\n', at)) != std::string::npos; at = nl + 1) {
      const std::string line = text.substr(at, nl - at);
      if (line == "served") ++out.served;
      else if (line.rfind("refused ", 0) == 0) ++out.refused[line.substr(8)];
      else if (line.rfind("failed", 0) == 0) ++out.failed;
    }
    return out;
  }

 private:
  [[noreturn]] static void run_child(const std::string& endpoint, int count, uid_t uid, int go, int result, int release) {
    if (uid != 0 && (::setgroups(0, nullptr) != 0 || ::setgid(uid) != 0 || ::setuid(uid) != 0)) ::_exit(2);
    char byte;
    if (::read(go, &byte, 1) != 1) ::_exit(3);
    std::vector<std::unique_ptr<transport::Connection>> held;
    std::string report;
    for (int i = 0; i < count; ++i) {
      try {
        auto connection = transport::connect(endpoint, 5s);
        try {
          transport::write_frame(*connection, protocol::make_request(i, "echo", json{{"i", i}}).dump(), 5s);
        } catch (const transport::TransportError&) {
          // Turned away before the request went out: the refusal is still there to read.
        }
        protocol::FrameDecoder decoder;
        auto payload = transport::read_frame(*connection, decoder, 5s);
        const json answer = payload ? json::parse(*payload) : json();
        if (answer.contains("result")) {
          report += "served\n";
          held.push_back(std::move(connection));
        } else if (answer.contains("error")) {
          report += "refused " + answer["error"]["message"].get<std::string>() + "\n";
        } else {
          report += "failed closed\n";
        }
      } catch (const std::exception& e) {
        report += std::string("failed ") + e.what() + "\n";
      }
    }
    report += "end\n";
    for (std::size_t off = 0; off < report.size();) {
      const ssize_t n = ::write(result, report.data() + off, report.size() - off);
      if (n <= 0) break;
      off += static_cast<std::size_t>(n);
    }
    pollfd p{release, POLLIN, 0};
    ::poll(&p, 1, 60'000);  // until the parent closes its end (or a minute)
    ::_exit(0);
  }

  pid_t pid_ = -1;
  int go_ = -1, result_ = -1, release_ = -1;
};

class ControlServerCapsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (::geteuid() != 0) GTEST_SKIP() << "needs root, to drop to nobody";
    ::chmod(dir.path().c_str(), 0755);  // nobody must reach the socket
    endpoint = test::unique_endpoint(dir);
    dispatcher.add("sluice.hello", protocol::Access::read, [](const json&, const protocol::Caller&) { return json::object(); });
    dispatcher.add("echo", protocol::Access::read, [](const json& p, const protocol::Caller&) { return p; });
  }
  void start(ControlServerLimits limits) {
    server = std::make_unique<ControlServer>(transport::listen(endpoint), dispatcher, limits);
    server->start();
  }
  bool root_is_answered() {
    transport::RpcClient client(endpoint, 5s, "test");
    return client.call("echo", json{{"root", true}})["root"] == true;
  }

  test::TempDir dir;
  std::string endpoint;
  protocol::Dispatcher dispatcher;
  std::unique_ptr<ControlServer> server;
};

TEST_F(ControlServerCapsTest, OneUserGetsAtMostItsShareAndIsToldWhy) {
  UserFlood flood(endpoint, 12);
  ASSERT_TRUE(flood.started());
  start(ControlServerLimits{.max_clients = 32, .max_clients_per_user = 4, .administrator_reserve = 4});
  const FloodResult result = flood.go();
  EXPECT_EQ(result.served, 4);
  ASSERT_EQ(result.refused.size(), 1u);
  const auto& [message, times] = *result.refused.begin();
  EXPECT_EQ(times, 8);
  EXPECT_NE(message.find("at most 4 per user"), std::string::npos) << message;
  EXPECT_NE(message.find("nobody"), std::string::npos) << message;
  EXPECT_TRUE(root_is_answered());
  EXPECT_EQ(server->counters().clients_refused_per_user, 8u);
}

TEST_F(ControlServerCapsTest, TheLastSlotsAreKeptForAdministrators) {
  UserFlood flood(endpoint, 12);
  ASSERT_TRUE(flood.started());
  start(ControlServerLimits{.max_clients = 8, .max_clients_per_user = 100, .administrator_reserve = 3});
  const FloodResult result = flood.go();
  EXPECT_EQ(result.served, 5);
  ASSERT_EQ(result.refused.size(), 1u);
  EXPECT_NE(result.refused.begin()->first.find("kept for administrators"), std::string::npos) << result.refused.begin()->first;
  // Root takes the three reserved slots while nobody holds the other five.
  std::vector<std::unique_ptr<transport::RpcClient>> admins;
  for (int i = 0; i < 3; ++i) {
    admins.push_back(std::make_unique<transport::RpcClient>(endpoint, 5s, "test"));
    EXPECT_EQ(admins.back()->call("echo", json{{"i", i}})["i"], i);
  }
  // Past the total, even root is told the service is full.
  try {
    transport::RpcClient over(endpoint, 5s, "test");
    over.call("echo");
    ADD_FAILURE() << "a ninth client must be refused";
  } catch (const protocol::RpcError& e) {
    EXPECT_EQ(e.code(), protocol::kServerBusy);
    EXPECT_NE(std::string(e.what()).find("at most 8"), std::string::npos) << e.what();
  } catch (const transport::TransportError&) {
    // The refusal raced the request: also a refusal.
  }
}

std::size_t open_descriptors() {
  std::size_t n = 0;
  for ([[maybe_unused]] const auto& entry : std::filesystem::directory_iterator("/proc/self/fd")) ++n;
  return n;
}

// sluiced out of descriptors: the accept loop must neither spin nor lock root out.
TEST_F(ControlServerCapsTest, OutOfDescriptorsRootIsStillServedAndOthersAreTold) {
  UserFlood flood(endpoint, 40);
  UserFlood root(endpoint, 1, /*uid=*/0);
  ASSERT_TRUE(flood.started() && root.started());
  start(ControlServerLimits{.max_clients = 1000, .max_clients_per_user = 1000, .administrator_reserve = 1});
  rlimit saved{};
  ASSERT_EQ(::getrlimit(RLIMIT_NOFILE, &saved), 0);
  rlimit low = saved;
  low.rlim_cur = open_descriptors() + 8;  // room for a few clients, then EMFILE
  ASSERT_EQ(::setrlimit(RLIMIT_NOFILE, &low), 0);
  const FloodResult flooded = flood.go();
  const FloodResult served_root = root.go();
  ::setrlimit(RLIMIT_NOFILE, &saved);
  EXPECT_GT(flooded.served, 0);
  EXPECT_LT(flooded.served, 40);
  int told = 0;
  for (const auto& [message, times] : flooded.refused) {
    if (message.find("out of file descriptors") != std::string::npos) told += times;
  }
  EXPECT_GT(told, 0) << "the clients turned away were told why";
  EXPECT_EQ(served_root.served, 1) << "root got in on the spare descriptor";
}

}  // namespace
}  // namespace sluice::service
