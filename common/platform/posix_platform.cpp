#include "common/platform/platform.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <pwd.h>
#include <unistd.h>

#include <cerrno>
#include <climits>
#include <cstdlib>
#include <fstream>
#include <sstream>
#include <system_error>

namespace sluice::platform {

const char* name() { return "linux"; }

std::int64_t current_pid() { return static_cast<std::int64_t>(::getpid()); }

namespace {
std::string read_link(const std::string& path) {
  char buf[PATH_MAX];
  ssize_t n = ::readlink(path.c_str(), buf, sizeof buf - 1);
  if (n < 0) return {};
  return std::string(buf, static_cast<std::size_t>(n));
}
}  // namespace

std::string current_executable() { return read_link("/proc/self/exe"); }

std::string process_executable(std::int64_t pid) { return read_link("/proc/" + std::to_string(pid) + "/exe"); }

std::uint64_t process_start_time(std::int64_t pid) {
  std::ifstream stat("/proc/" + std::to_string(pid) + "/stat");
  std::string text;
  if (!std::getline(stat, text)) return 0;
  // "PID (comm) S ...": comm may hold spaces and parentheses, so count from the last ')'.
  const auto close = text.rfind(')');
  if (close == std::string::npos) return 0;
  std::istringstream fields(text.substr(close + 1));
  std::string field;
  for (int i = 3; i < 22 && fields >> field; ++i) {
  }
  std::uint64_t start = 0;
  return fields >> start ? start : 0;
}

std::intptr_t open_process_handle(std::int64_t pid) {
  const long fd = ::syscall(SYS_pidfd_open, static_cast<pid_t>(pid), 0);
  if (fd >= 0) ::fcntl(static_cast<int>(fd), F_SETFD, FD_CLOEXEC);
  return fd >= 0 ? fd : -1;
}

void close_process_handle(std::intptr_t handle) {
  if (handle >= 0) ::close(static_cast<int>(handle));
}

bool same_process(std::int64_t pid, std::uint64_t start_time, std::intptr_t handle) {
  // A pidfd names one process: signal 0 fails once that process is gone, whoever
  // has its pid now. The start time covers kernels and callers without one.
  if (handle >= 0 && ::syscall(SYS_pidfd_send_signal, static_cast<int>(handle), 0, nullptr, 0) != 0) return false;
  return start_time == 0 || process_start_time(pid) == start_time;
}

DescriptorUse descriptor_use() {
  DescriptorUse use;
  rlimit limit{};
  if (::getrlimit(RLIMIT_NOFILE, &limit) == 0 && limit.rlim_cur != RLIM_INFINITY) use.limit = static_cast<std::int64_t>(limit.rlim_cur);
  if (DIR* dir = ::opendir("/proc/self/fd")) {
    std::int64_t open = 0;
    while (dirent* entry = ::readdir(dir)) {
      if (entry->d_name[0] != '.') ++open;
    }
    ::closedir(dir);
    use.open = open - 1;  // the directory's own descriptor
  }
  return use;
}

UserIdentity find_user(const std::string& text) {
  UserIdentity user;
  if (text.empty()) return user;
  const bool numeric = text.find_first_not_of("0123456789") == std::string::npos && text.size() <= 10;
  if (numeric) {
    // As the transport names a caller: the account's name, or the uid's digits.
    user.uid = std::stoll(text);
    const passwd* pw = ::getpwuid(static_cast<uid_t>(user.uid));
    user.account = pw ? pw->pw_name : text;
  } else if (const passwd* pw = ::getpwnam(text.c_str())) {
    user.uid = pw->pw_uid;
    user.account = pw->pw_name;
  }
  return user;
}

bool running_as_administrator() { return ::geteuid() == 0; }

bool paths_are_case_insensitive() { return false; }

bool stdout_is_terminal() { return ::isatty(STDOUT_FILENO) == 1; }

std::string environment(const char* name) {
  const char* value = std::getenv(name);
  return value ? value : "";
}

std::string default_state_dir() {
  if (::geteuid() == 0) return "/var/lib/sluice";
  if (auto xdg = environment("XDG_STATE_HOME"); !xdg.empty()) return xdg + "/sluice";
  if (auto home = environment("HOME"); !home.empty()) return home + "/.local/state/sluice";
  return "/tmp/sluice-" + std::to_string(::geteuid()) + "/state";
}

namespace {
constexpr const char* kMachineControlEndpoint = "/run/sluice/control.sock";

bool is_socket(const std::string& path) {
  struct stat st{};
  return ::stat(path.c_str(), &st) == 0 && S_ISSOCK(st.st_mode);
}
}  // namespace

std::string default_control_endpoint() {
  if (::geteuid() == 0) return kMachineControlEndpoint;
  if (auto xdg = environment("XDG_RUNTIME_DIR"); !xdg.empty()) return xdg + "/sluice/control.sock";
  return "/tmp/sluice-" + std::to_string(::geteuid()) + "/control.sock";
}

std::string client_control_endpoint() {
  const std::string own = default_control_endpoint();
  // An administrator in sluice-admin is not root: without this, a plain `sluicectl`
  // would look for a per-user service and miss the machine's.
  if (!is_socket(own) && is_socket(kMachineControlEndpoint)) return kMachineControlEndpoint;
  return own;
}

void create_directories(const std::string& path, bool world_readable) {
  const mode_t mode = world_readable ? 0755 : 0700;
  for (std::size_t pos = 1; pos <= path.size(); ++pos) {
    if (pos != path.size() && path[pos] != '/') continue;
    std::string prefix = path.substr(0, pos);
    if (::mkdir(prefix.c_str(), mode) == 0) {
      // mkdir's mode passes through the umask, and the daemon's is 027: without this
      // a socket directory it creates would shut every other user's provider out.
      ::chmod(prefix.c_str(), mode);
    } else if (errno != EEXIST) {
      throw std::system_error(errno, std::generic_category(), "cannot create directory " + prefix);
    }
  }
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0 || !S_ISDIR(st.st_mode)) {
    throw std::system_error(ENOTDIR, std::generic_category(), "not a directory: " + path);
  }
}

std::string join_path(const std::string& dir, const std::string& leaf) {
  if (dir.empty() || dir.back() == '/') return dir + leaf;
  return dir + "/" + leaf;
}

}  // namespace sluice::platform

namespace sluice::platform {

PathLookup look_up_path(const std::string& path) {
  PathLookup out;
  char* resolved = ::realpath(path.c_str(), nullptr);
  if (!resolved) {
    const int error = errno;
    // A missing file, or a parent that is a file: nothing there to name.
    if (error == ENOENT || error == ENOTDIR) return out;
    out.kind = PathLookup::Kind::unreadable;
    out.error = std::generic_category().message(error);
    return out;
  }
  out.real_path = resolved;
  std::free(resolved);
  struct stat st {};
  if (::stat(out.real_path.c_str(), &st) != 0) {
    out.kind = PathLookup::Kind::unreadable;
    out.error = std::generic_category().message(errno);
    out.real_path.clear();
    return out;
  }
  out.kind = S_ISDIR(st.st_mode) ? PathLookup::Kind::directory : PathLookup::Kind::file;
  return out;
}

bool is_native_absolute_path(const std::string& path) { return path.starts_with("/"); }

const char* example_program_path() { return "/usr/bin/curl"; }

}  // namespace sluice::platform
