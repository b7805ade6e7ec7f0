#pragma once

// A program a test starts, reads from and kills, the same way on every platform
// (fork/exec and SIGKILL on POSIX, CreateProcess and TerminateProcess on Windows; one
// implementation file each). Every wait is bounded by its caller's timeout.

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace sluice::test {

class ChildProcess {
 public:
  // Starts `program` with `arguments`, its standard output on a pipe to this
  // process. Throws std::runtime_error when it cannot be started.
  ChildProcess(const std::string& program, const std::vector<std::string>& arguments);
  ChildProcess(const ChildProcess&) = delete;
  ChildProcess& operator=(const ChildProcess&) = delete;
  // Kills it if it still runs.
  ~ChildProcess();

  // Its next line of output (without the newline), waiting up to `timeout_ms`;
  // nothing when it did not come, or the program ended first.
  std::optional<std::string> read_line(int timeout_ms);
  // Ends it at once, as a crash would (SIGKILL, TerminateProcess), and waits for it:
  // the system then closes everything it had open.
  void kill();

 private:
  // Appends what it wrote since to pending_, waiting up to `deadline` for it; false
  // when nothing came by then, or it ended. One implementation per platform.
  bool read_more(std::chrono::steady_clock::time_point deadline);

  std::intptr_t process_ = -1;  // pid, or the process HANDLE
  std::intptr_t output_ = -1;   // read end of its stdout: fd, or HANDLE
  std::string pending_;         // read, not yet returned as a line
};

// The path of the program `name` built beside the running test (".exe" added on
// Windows): the helper programs of tests/support land in the same bin/.
std::string program_beside_this_one(const std::string& name);

}  // namespace sluice::test
