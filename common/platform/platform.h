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
