// sluicectl run by someone sluiced does not take for an administrator: the real
// sluicectl program, started as `nobody` (forked, its groups dropped, then exec'd,
// as control_server_caps_test drops), against the service body. Reading works;
// every change is refused with exit 4 (kExitRefused), with and without --json,
// saying how to become an administrator and never naming an RPC method; and
// nothing changes. Also: a `policy export --file` whose writing fails half way (a
// file size limit) leaves no temporary file holding the policy.
#include <fcntl.h>
#include <grp.h>
#include <poll.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <iostream>
#include <regex>
#include <set>
#include <sstream>

#include "control/cli/cli.h"
#include "tests/support/running_service.h"
#include "tests/support/temp_dir.h"

namespace sluice::cli {
namespace {

namespace fs = std::filesystem;
constexpr uid_t kNobody = 65534;

struct Ran {
  int status = -1;
  std::string out, err;
};

// How the child is set up between fork and exec: only async-signal-safe calls.
struct ChildSetup {
  uid_t uid = 0;                 // 0: stay root
  rlim_t file_size_limit = 0;    // 0: none
};

// Runs the sluicectl program with `args`, as `setup` says, and waits (bounded) for it.
Ran run_sluicectl(const std::vector<std::string>& args, ChildSetup setup) {
  std::vector<std::string> storage{SLUICECTL_PROGRAM};
  storage.insert(storage.end(), args.begin(), args.end());
  std::vector<char*> argv;
  for (auto& a : storage) argv.push_back(a.data());
  argv.push_back(nullptr);
  int out[2], err[2];
  if (::pipe2(out, O_CLOEXEC) != 0 || ::pipe2(err, O_CLOEXEC) != 0) return {};
  const pid_t pid = ::fork();
  if (pid == 0) {
    ::dup2(out[1], STDOUT_FILENO);
    ::dup2(err[1], STDERR_FILENO);
    if (setup.uid != 0 && (::setgroups(0, nullptr) != 0 || ::setgid(setup.uid) != 0 || ::setuid(setup.uid) != 0)) ::_exit(120);
    if (setup.file_size_limit != 0) {
      ::signal(SIGXFSZ, SIG_IGN);  // a write past the limit then fails with EFBIG instead of killing
      const rlimit limit{setup.file_size_limit, setup.file_size_limit};
      if (::setrlimit(RLIMIT_FSIZE, &limit) != 0) ::_exit(121);
    }
    ::execv(argv[0], argv.data());
    ::_exit(127);
  }
  ::close(out[1]);
  ::close(err[1]);
  Ran ran;
  pollfd fds[2] = {{out[0], POLLIN, 0}, {err[0], POLLIN, 0}};
  int open_pipes = 2;
  for (int i = 0; i < 300 && open_pipes > 0; ++i) {  // at most 30 s
    if (::poll(fds, 2, 100) <= 0) continue;
    for (auto& p : fds) {
      if (p.fd < 0 || !(p.revents & (POLLIN | POLLHUP))) continue;
      char buffer[4096];
      const ssize_t n = ::read(p.fd, buffer, sizeof buffer);
      if (n <= 0) {
        ::close(p.fd);
        p.fd = -1;
        --open_pipes;
        continue;
      }
      (p.fd == out[0] ? ran.out : ran.err).append(buffer, static_cast<std::size_t>(n));
    }
  }
  for (auto& p : fds) {
    if (p.fd >= 0) ::close(p.fd);
  }
  int status = 0;
  for (int i = 0; i < 100 && ::waitpid(pid, &status, WNOHANG) != pid; ++i) ::usleep(50'000);
  if (::waitpid(pid, &status, WNOHANG) == 0) {
    ::kill(pid, SIGKILL);
    ::waitpid(pid, &status, 0);
  }
  ran.status = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  return ran;
}

class CliNotAdministratorTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (::geteuid() != 0) GTEST_SKIP() << "needs root, to drop to nobody";
    ::chmod(dir_.path().c_str(), 0755);  // nobody must reach the socket
    config_ = service::ServiceConfig{dir_.file("state"), test::unique_endpoint(dir_), spdlog::level::warn};
    service_ = std::make_unique<test::RunningService>(config_);
  }

  Ran as(uid_t uid, std::vector<std::string> args, rlim_t file_size_limit = 0) {
    args.insert(args.begin(), {"--control", config_.control_endpoint});
    return run_sluicectl(args, ChildSetup{uid, file_size_limit});
  }

  test::TempDir dir_;
  service::ServiceConfig config_;
  std::unique_ptr<test::RunningService> service_;
};

TEST_F(CliNotAdministratorTest, ChangesAreRefusedWithExitFourSayingHowToBecomeOne) {
  ASSERT_EQ(as(0, {"rule", "add", "--action", "relay", "--app", "/usr/bin/curl"}).status, kExitOk);
  const std::string before = as(0, {"policy", "export"}).out;
  ASSERT_FALSE(before.empty());

  const Ran status = as(kNobody, {"status"});
  ASSERT_EQ(status.status, kExitOk) << status.err;
  EXPECT_NE(status.out.find("read-only"), std::string::npos) << status.out;
  EXPECT_EQ(as(kNobody, {"rule", "list", "--json"}).status, kExitOk);

  const std::regex method(R"(\b(rule|quota|policy|settings|service)\.[a-z_]+\b)");
  const std::vector<std::vector<std::string>> changes = {
      {"rule", "add", "--action", "block"},
      {"rule", "edit", "1", "--action", "block"},
      {"rule", "remove", "1"},
      {"rule", "disable", "1"},
      {"rule", "move", "1", "--to", "1"},
      {"quota", "set", "--app", "/usr/bin/curl", "--rate-up", "1MiB/s"},
      {"quota", "clear", "--global"},
      {"settings", "set", "default_action", "block"},
      {"service", "reload"},
  };
  int refused = 0;
  for (const auto& change : changes) {
    for (bool with_json : {false, true}) {
      auto args = change;
      if (with_json) args.push_back("--json");
      const Ran r = as(kNobody, args);
      const std::string shown = ::testing::PrintToString(args);
      EXPECT_EQ(r.status, kExitRefused) << shown << ": " << r.err;
      EXPECT_TRUE(r.out.empty()) << shown << ": " << r.out;
      EXPECT_NE(r.err.find("needs an administrator"), std::string::npos) << shown << ": " << r.err;
      EXPECT_NE(r.err.find("sudo"), std::string::npos) << shown << ": " << r.err;
      EXPECT_NE(r.err.find("sluice-admin"), std::string::npos) << shown << ": " << r.err;
      EXPECT_NE(r.err.find("'nobody' is not one"), std::string::npos) << shown << ": " << r.err;
      EXPECT_FALSE(std::regex_search(r.err, method)) << shown << " names a method: " << r.err;
      refused += r.status == kExitRefused;
    }
  }
  // A document import, from a file nobody may read: the policy is not touched.
  const std::string document = dir_.file("policy.json");
  { std::ofstream(document) << before; }
  ::chmod(document.c_str(), 0644);
  const Ran import = as(kNobody, {"policy", "import", "--file", document, "--replace"});
  EXPECT_EQ(import.status, kExitRefused) << import.err;
  EXPECT_NE(import.err.find("changing the policy needs an administrator"), std::string::npos) << import.err;

  EXPECT_EQ(as(0, {"policy", "export"}).out, before) << "a refused change changed the policy";
  std::cout << "[ figures ] " << refused << " refused changes as nobody, each exit " << kExitRefused << "\n";
}

TEST_F(CliNotAdministratorTest, AnExportThatFailsHalfWayLeavesNoTemporaryFile) {
  for (int i = 0; i < 40; ++i) {  // a policy larger than the limit below
    ASSERT_EQ(as(0, {"rule", "add", "--action", "block", "--app", "/usr/bin/program-" + std::to_string(i)}).status, kExitOk);
  }
  const std::string out_dir = dir_.file("exports");
  fs::create_directory(out_dir);
  const std::string target = out_dir + "/policy.json";
  const Ran failed = as(0, {"policy", "export", "--file", target}, /*file_size_limit=*/512);
  EXPECT_EQ(failed.status, kExitFailure) << failed.err;
  EXPECT_NE(failed.err.find("cannot write"), std::string::npos) << failed.err;
  EXPECT_TRUE(fs::is_empty(out_dir)) << "left behind: " << fs::directory_iterator(out_dir)->path();

  // Without the limit it is written, readable by its owner alone.
  const Ran written = as(0, {"policy", "export", "--file", target});
  ASSERT_EQ(written.status, kExitOk) << written.err;
  struct stat st{};
  ASSERT_EQ(::stat(target.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u) << std::oct << (st.st_mode & 0777);
  EXPECT_EQ(std::distance(fs::directory_iterator(out_dir), fs::directory_iterator()), 1);
}

}  // namespace
}  // namespace sluice::cli
