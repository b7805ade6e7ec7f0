#include "common/platform/directory_lock.h"

#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <string>

namespace sluice::platform {
namespace {

std::int64_t read_pid(int fd) {
  char text[32] = {};
  const ssize_t n = pread(fd, text, sizeof text - 1, 0);
  if (n <= 0) return -1;
  char* end = nullptr;
  const long long pid = std::strtoll(text, &end, 10);
  return end != text && pid > 0 ? pid : -1;
}

}  // namespace

DirectoryLock::DirectoryLock(const std::string& directory) {
  const std::string path = directory + "/" + kFileName;
  // O_NOFOLLOW: the state directory is root's, but a link planted in a wrong-mode
  // directory must not make root open another file.
  const int fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
  if (fd < 0) throw std::runtime_error("cannot open " + path + ": " + std::strerror(errno));
  if (::flock(fd, LOCK_EX | LOCK_NB) != 0) {
    const int error = errno;
    const std::int64_t holder = read_pid(fd);
    ::close(fd);
    if (error == EWOULDBLOCK) {
      throw DirectoryLocked("another sluiced" + (holder > 0 ? " (pid " + std::to_string(holder) + ")" : std::string()) +
                                " is using the state directory " + directory,
                            holder);
    }
    throw std::runtime_error("cannot lock " + path + ": " + std::strerror(error));
  }
  const std::string pid = std::to_string(::getpid()) + "\n";
  if (::ftruncate(fd, 0) != 0 || ::pwrite(fd, pid.data(), pid.size(), 0) != static_cast<ssize_t>(pid.size())) {
    const int error = errno;
    ::close(fd);
    throw std::runtime_error("cannot write " + path + ": " + std::strerror(error));
  }
  handle_ = fd;
}

DirectoryLock::~DirectoryLock() { ::close(static_cast<int>(handle_)); }  // closing releases the flock

}  // namespace sluice::platform
