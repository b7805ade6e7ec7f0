#pragma once

// Every difference between Windows and POSIX that shared code needs to know about
// is a function here, implemented once per platform in win_platform.cpp and
// posix_platform.cpp (CMake picks the file). Shared code has no #ifdef.

#include <cstdint>
#include <string>

namespace sluice::platform {

// "linux" or "windows": reported by service.status and used in log lines.
const char* name();

std::int64_t current_pid();

// Full path of the running executable.
std::string current_executable();

// Full path of another process's executable, as the OS reports it now (the
// /proc/PID/exe link; QueryFullProcessImageName); "" when it cannot be read.
std::string process_executable(std::int64_t pid);

// When process `pid` started, in the platform's own units (Linux: clock ticks after
// boot, /proc/PID/stat; Windows: its creation FILETIME); 0 when it cannot be read.
// A pid and its start time name one process, even after the pid is reused.
std::uint64_t process_start_time(std::int64_t pid);

// A handle that pins a process for as long as it is open (Linux: a pidfd; Windows:
// a process handle), -1 when none could be had; close_process_handle() ends it.
std::intptr_t open_process_handle(std::int64_t pid);
void close_process_handle(std::intptr_t handle);

// True when the process a caller was identified as (pid, start time, and the pinning
// handle when there is one; see above) is still the one running under `pid`: what a
// read of /proc/PID or of the process's tables is checked against afterwards.
bool same_process(std::int64_t pid, std::uint64_t start_time, std::intptr_t handle);

// This process's descriptors (Linux: open entries of /proc/self/fd against
// RLIMIT_NOFILE; Windows: its handle count against the handle table's practical
// limit); -1 where unknown. Counting costs a directory read: once a second, not per call.
struct DescriptorUse {
  std::int64_t open = -1;
  std::int64_t limit = -1;
};
DescriptorUse descriptor_use();

// A user as the OS identifies the callers of the control plane: POSIX uid and account
// name (the uid's digits when it has none); on Windows uid -1 and DOMAIN\\name.
struct UserIdentity {
  std::int64_t uid = -1;
  std::string account;
};
// The user named by `text` (a uid or a name; Windows: a name, DOMAIN\\name or SID), or
// uid -1 and an empty account when there is none.
UserIdentity find_user(const std::string& text);

// True for uid 0 on POSIX, for an elevated Administrators token on Windows.
bool running_as_administrator();

// Where sluiced keeps its database and logs when --state-dir is not given:
// /var/lib/sluice as root (else $XDG_STATE_HOME/sluice or ~/.local/state/sluice);
// %ProgramData%\Sluice on Windows.
std::string default_state_dir();

// Where the control plane listens when --control / SLUICE_CONTROL is not given:
// /run/sluice/control.sock as root (else $XDG_RUNTIME_DIR/sluice/control.sock, or
// /tmp/sluice-UID/control.sock); \\.\pipe\sluice on Windows.
std::string default_control_endpoint();

// Where clients (sluicectl) look when not told: the default endpoint if a service
// listens there, else the machine's service (/run/sluice/control.sock) if one
// listens there, else the default. The same pipe on Windows.
std::string client_control_endpoint();

// What the file system says of a path a rule or quota names (service/rpc/program_paths.h).
struct PathLookup {
  enum class Kind { missing, file, directory, unreadable };
  Kind kind = Kind::missing;
  // The path with every symbolic link, "." and ".." resolved, as the kernel reports a
  // running program's executable (realpath(3); GetFinalPathNameByHandleW without the
  // \\?\ prefix); "" unless kind is file or directory.
  std::string real_path;
  std::string error;  // why, for unreadable ("Permission denied")
};
PathLookup look_up_path(const std::string& path);

// True when `path` is absolute in this platform's own form: "/..." on POSIX;
// "C:\..." (either slash) or "\\server\share\..." on Windows.
bool is_native_absolute_path(const std::string& path);

// The form this platform's program paths take, for messages: "/usr/bin/curl", "C:\Program Files\App\app.exe".
const char* example_program_path();

// True where executable paths compare case-insensitively (Windows).
bool paths_are_case_insensitive();

// True when standard output is a terminal (so a refreshing display may redraw it).
bool stdout_is_terminal();

// Value of an environment variable, or "" when unset.
std::string environment(const char* name);

// Creates a directory and its parents, accessible to its owner (and readable by
// others when `world_readable`). Throws std::system_error naming the path.
void create_directories(const std::string& path, bool world_readable);

// Joins two path parts with the platform's separator.
std::string join_path(const std::string& dir, const std::string& leaf);

}  // namespace sluice::platform
