#include "control/cli/private_file.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>

#include "control/cli/cli.h"

namespace sluice::cli {

void write_private_file(const std::string& path, const std::string& text) {
  namespace fs = std::filesystem;
  struct stat st{};
  if (::stat(path.c_str(), &st) == 0 && S_ISDIR(st.st_mode)) {
    throw CommandFailed("cannot write '" + path + "': it is a directory; give a file name, e.g. " +
                        (fs::path(path) / "policy.json").string(),
                        kExitUsage);
  }
  const fs::path target(path);
  const fs::path directory = target.has_parent_path() ? target.parent_path() : fs::path(".");
  // mkstemp makes the file 0600 and O_EXCL: never an existing file, never readable by others.
  std::string temporary = (directory / ("." + target.filename().string() + ".XXXXXX")).string();
  const int fd = ::mkstemp(temporary.data());
  if (fd < 0) {
    const int cause = errno;
    throw CommandFailed("cannot write '" + path + "': cannot create a file in " + directory.string() + ": " + std::strerror(cause) +
                        (cause == EACCES || cause == EPERM ? " (choose a directory you may write to)" : ""),
                        cause == ENOENT || cause == ENOTDIR ? kExitUsage : kExitFailure);
  }
  auto fail = [&](const char* what) {
    const int cause = errno;
    ::close(fd);
    ::unlink(temporary.c_str());
    throw CommandFailed("cannot write '" + path + "': " + what + ": " + std::strerror(cause) + "; nothing was written");
  };
  std::size_t written = 0;
  while (written < text.size()) {
    const ssize_t n = ::write(fd, text.data() + written, text.size() - written);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) fail("write");
    written += static_cast<std::size_t>(n);
  }
  if (::fsync(fd) != 0) fail("fsync");
  if (::close(fd) != 0) {
    const int cause = errno;
    ::unlink(temporary.c_str());
    throw CommandFailed("cannot write '" + path + "': close: " + std::strerror(cause) + "; nothing was written");
  }
  if (::rename(temporary.c_str(), path.c_str()) != 0) {
    const int cause = errno;
    ::unlink(temporary.c_str());
    throw CommandFailed("cannot write '" + path + "': " + std::strerror(cause) + "; nothing was written");
  }
}

}  // namespace sluice::cli
