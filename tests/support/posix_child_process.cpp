#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstring>
#include <stdexcept>

#include "common/platform/platform.h"
#include "tests/support/child_process.h"

namespace sluice::test {

ChildProcess::ChildProcess(const std::string& program, const std::vector<std::string>& arguments) {
  int output[2];
  if (::pipe2(output, O_CLOEXEC) != 0) throw std::runtime_error(std::string("pipe: ") + std::strerror(errno));
  std::vector<char*> argv;
  argv.push_back(const_cast<char*>(program.c_str()));
  for (const std::string& argument : arguments) argv.push_back(const_cast<char*>(argument.c_str()));
  argv.push_back(nullptr);
  const pid_t pid = ::fork();
  if (pid == 0) {
    ::dup2(output[1], STDOUT_FILENO);
    ::execv(program.c_str(), argv.data());
    ::_exit(127);
  }
  ::close(output[1]);
  if (pid < 0) {
    ::close(output[0]);
    throw std::runtime_error(std::string("fork: ") + std::strerror(errno));
  }
  process_ = pid;
  output_ = output[0];
}

ChildProcess::~ChildProcess() {
  kill();
  if (output_ >= 0) ::close(static_cast<int>(output_));
}

bool ChildProcess::read_more(std::chrono::steady_clock::time_point deadline) {
  for (;;) {
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0) return false;
    pollfd readable{static_cast<int>(output_), POLLIN, 0};
    const int ready = ::poll(&readable, 1, static_cast<int>(left.count()));
    if (ready < 0 && errno == EINTR) continue;
    if (ready != 1) return false;
    char buffer[256];
    const ssize_t n = ::read(static_cast<int>(output_), buffer, sizeof buffer);
    if (n <= 0) return false;  // it ended, or closed its output
    pending_.append(buffer, static_cast<std::size_t>(n));
    return true;
  }
}

void ChildProcess::kill() {
  if (process_ <= 0) return;
  ::kill(static_cast<pid_t>(process_), SIGKILL);
  ::waitpid(static_cast<pid_t>(process_), nullptr, 0);
  process_ = -1;
}

std::string program_beside_this_one(const std::string& name) {
  const std::string self = platform::current_executable();
  return self.substr(0, self.find_last_of('/') + 1) + name;
}

}  // namespace sluice::test
