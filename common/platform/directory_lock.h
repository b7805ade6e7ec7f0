#pragma once

// An exclusive lock on a directory, held by a lock file in it for as long as the
// object lives: two sluiced on one state directory would write one database and one
// log from two processes, each believing it owns them. The OS releases the lock when
// the holder dies, so a crashed sluiced never leaves a stale one behind.
// posix_directory_lock.cpp (flock) and win_directory_lock.cpp (a share-mode-exclusive
// handle) implement it.

#include <cstdint>
#include <stdexcept>
#include <string>

namespace sluice::platform {

// Another process holds the lock; `holder_pid` is the pid it wrote, or -1.
class DirectoryLocked : public std::runtime_error {
 public:
  DirectoryLocked(const std::string& message, std::int64_t holder_pid) : std::runtime_error(message), holder_pid_(holder_pid) {}
  std::int64_t holder_pid() const { return holder_pid_; }

 private:
  std::int64_t holder_pid_;
};

class DirectoryLock {
 public:
  static constexpr const char* kFileName = "sluiced.lock";

  // Takes the lock, writing this process's pid in the lock file. Throws
  // DirectoryLocked when another process holds it, std::runtime_error when the file
  // cannot be made.
  explicit DirectoryLock(const std::string& directory);
  ~DirectoryLock();
  DirectoryLock(const DirectoryLock&) = delete;
  DirectoryLock& operator=(const DirectoryLock&) = delete;

 private:
  std::intptr_t handle_;
};

}  // namespace sluice::platform
