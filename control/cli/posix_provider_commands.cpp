// sluicectl provider install|uninstall|status on Linux: the LD_PRELOAD provider,
// machine-wide through /etc/ld.so.preload. These work on local files, not through
// the service; writing needs root, as the file does.

#include <fcntl.h>
#include <spawn.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "control/cli/command_support.h"
#include "control/cli/preload_file.h"
#include "provider/preload/launcher.h"

extern char** environ;

namespace sluice::cli {
namespace {

namespace fs = std::filesystem;

std::string read_text(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    if (errno == ENOENT) return {};
    throw CommandFailed("cannot read " + path + ": " + std::strerror(errno));
  }
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

// Replaces the file in one step: a half-written ld.so.preload would break every
// program started meanwhile.
void write_text(const std::string& path, const std::string& text) {
  const std::string temporary = path + ".sluice-new";
  const int fd = ::open(temporary.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  auto fail = [&](const std::string& what) {
    const int cause = errno;
    if (fd >= 0) ::close(fd);
    ::unlink(temporary.c_str());
    const bool denied = cause == EACCES || cause == EPERM;
    throw CommandFailed("cannot " + what + " " + path + ": " + std::strerror(cause) +
                            (denied ? "; changing it needs root: run it with sudo" : ""),
                        denied ? kExitRefused : kExitFailure);
  };
  if (fd < 0) fail("write");
  if (::write(fd, text.data(), text.size()) != static_cast<ssize_t>(text.size()) || ::fsync(fd) != 0) fail("write");
  ::close(fd);
  if (::rename(temporary.c_str(), path.c_str()) != 0) fail("replace");
}

// Loads the library into /bin/true before any program on the machine gets it: the
// loader reports a library it cannot preload on stderr and runs the program anyway.
void check_loads(const std::string& library) {
  int pipe_fds[2];
  if (::pipe2(pipe_fds, O_CLOEXEC) != 0) throw CommandFailed(std::string("pipe: ") + std::strerror(errno));
  posix_spawn_file_actions_t actions;
  ::posix_spawn_file_actions_init(&actions);
  ::posix_spawn_file_actions_adddup2(&actions, pipe_fds[1], STDERR_FILENO);
  std::vector<std::string> env_storage{"LD_PRELOAD=" + library, "SLUICE_CONTROL=/nonexistent/sluice.sock"};
  std::vector<char*> env;
  for (auto& e : env_storage) env.push_back(e.data());
  env.push_back(nullptr);
  char true_path[] = "/bin/true";
  char* argv[] = {true_path, nullptr};
  pid_t child = -1;
  const int spawned = ::posix_spawn(&child, true_path, &actions, nullptr, argv, env.data());
  ::posix_spawn_file_actions_destroy(&actions);
  ::close(pipe_fds[1]);
  std::string complaint;
  char buffer[512];
  ssize_t n;
  while ((n = ::read(pipe_fds[0], buffer, sizeof buffer)) > 0) complaint.append(buffer, static_cast<std::size_t>(n));
  ::close(pipe_fds[0]);
  if (spawned != 0) throw CommandFailed(std::string("cannot run /bin/true to check the library: ") + std::strerror(spawned));
  int status = 0;
  ::waitpid(child, &status, 0);
  if (!WIFEXITED(status) || WEXITSTATUS(status) != 0 || !complaint.empty()) {
    while (!complaint.empty() && complaint.back() == '\n') complaint.pop_back();
    throw CommandFailed(library + " does not load into programs; nothing was changed" +
                        (complaint.empty() ? std::string() : ": " + complaint));
  }
}

// /etc/ld.so.preload puts the library into every process, set-uid ones included: the
// file and every directory above it must be writable by root alone, or whoever else
// can write them chooses code that runs as root. Sticky root-owned directories
// (/tmp) are fine: others cannot rename or replace root's entries in them.
void check_only_root_can_write(const std::string& library) {
  fs::path path(library);
  for (;;) {
    struct stat st{};
    if (::lstat(path.c_str(), &st) != 0) throw CommandFailed("cannot check " + path.string() + ": " + std::strerror(errno));
    const bool sticky_dir = S_ISDIR(st.st_mode) && (st.st_mode & S_ISVTX);
    std::string why;
    if (st.st_uid != 0) why = "is owned by uid " + std::to_string(st.st_uid) + ", not root";
    else if ((st.st_mode & S_IWOTH) && !sticky_dir) why = "is writable by every user";
    else if ((st.st_mode & S_IWGRP) && st.st_gid != 0 && !sticky_dir) why = "is writable by group " + std::to_string(st.st_gid);
    if (!why.empty()) {
      throw CommandFailed("refusing " + library + ": " + path.string() + " " + why +
                          "; every program, set-uid ones included, would load a library others can change. "
                          "Install it where only root can write (the package puts it in /usr/lib/sluice). Nothing was changed.");
    }
    if (!path.has_relative_path()) return;  // "/" checked
    path = path.parent_path();
  }
}

int install(const CliContext& context, const std::vector<std::string>& args) {
  po::options_description options("Options");
  options.add_options()
      ("library", po::value<std::string>()->value_name("PATH"),
       "the provider library [default: libsluice_preload.so beside sluicectl, else in ../lib/sluice]")
      ("preload-file", po::value<std::string>()->value_name("FILE")->default_value(kPreloadFile), "the loader's preload list")
      ("json", "print the outcome as JSON");
  po::variables_map vm;
  if (!parse(context, "sluicectl provider install [--library PATH] [--preload-file FILE] [--json]\n\n"
                      "Steers every program started from now on: adds the provider library to the\n"
                      "loader's preload list (after checking that it loads). Running programs are not\n"
                      "affected. Installing again changes nothing.",
             options, args, vm)) {
    return kExitOk;
  }
  std::string library;
  if (vm.count("library")) {
    library = vm["library"].as<std::string>();
  } else if (auto found = preload::find_provider_library(preload::own_directory(), preload::is_regular_file)) {
    library = *found;
  } else {
    throw UsageError("cannot find libsluice_preload.so beside sluicectl or in ../lib/sluice; name it with --library");
  }
  if (!preload::is_regular_file(library)) throw UsageError("--library '" + library + "' is not a file");
  if (!is_provider_entry(library)) {
    throw UsageError("--library '" + library + "' is not named libsluice_preload.so");
  }
  std::error_code error;
  library = fs::canonical(library, error).string();  // the loader needs an absolute path
  check_only_root_can_write(library);
  const std::string file = vm["preload-file"].as<std::string>();

  const std::string before = read_text(file);
  const auto entries = preload_entries(before);
  const bool already = std::find(entries.begin(), entries.end(), library) != entries.end();
  if (!already) {
    check_loads(library);
    write_text(file, with_provider(before, library));
  }
  if (vm.count("json")) {
    context.out << json{{"installed", true}, {"changed", !already}, {"preload_file", file}, {"library", library}}.dump(2) << "\n";
  } else if (already) {
    context.out << "provider already installed: " << file << " lists " << library << "\n";
  } else {
    context.out << "provider installed: " << file << " lists " << library << "\n"
                << "programs started from now on are steered by sluiced's policy\n";
  }
  return kExitOk;
}

int uninstall(const CliContext& context, const std::vector<std::string>& args) {
  po::options_description options("Options");
  options.add_options()
      ("preload-file", po::value<std::string>()->value_name("FILE")->default_value(kPreloadFile), "the loader's preload list")
      ("json", "print the outcome as JSON");
  po::variables_map vm;
  if (!parse(context, "sluicectl provider uninstall [--preload-file FILE] [--json]\n\n"
                      "Removes the provider from the loader's preload list; other entries are kept.\n"
                      "Programs already running keep it until they exit. Removing again changes nothing.",
             options, args, vm)) {
    return kExitOk;
  }
  const std::string file = vm["preload-file"].as<std::string>();
  const std::string before = read_text(file);
  const std::string after = without_provider(before);
  const bool changed = after != before;
  auto report = [&] {
    if (vm.count("json")) {
      context.out << json{{"installed", false}, {"changed", changed}, {"preload_file", file}}.dump(2) << "\n";
    } else if (!changed) {
      context.out << "provider not installed: " << file << " does not list it\n";
    } else {
      context.out << "provider uninstalled from " << file << "\n";
    }
    return kExitOk;
  };
  if (!changed) return report();
  if (preload_entries(after).empty() && after.find('#') == std::string::npos) {
    if (::unlink(file.c_str()) != 0) {
      const int cause = errno;
      const bool denied = cause == EACCES || cause == EPERM;
      throw CommandFailed("cannot remove " + file + ": " + std::strerror(cause) + (denied ? "; changing it needs root: run it with sudo" : ""),
                          denied ? kExitRefused : kExitFailure);
    }
  } else {
    write_text(file, after);
  }
  return report();
}

int status(const CliContext& context, const std::vector<std::string>& args) {
  po::options_description options("Options");
  options.add_options()
      ("preload-file", po::value<std::string>()->value_name("FILE")->default_value(kPreloadFile), "the loader's preload list")
      ("json", "print the status as JSON");
  po::variables_map vm;
  if (!parse(context, "sluicectl provider status [--preload-file FILE] [--json]\n\n"
                      "Whether the provider is installed machine-wide, and whether the library it names exists.",
             options, args, vm)) {
    return kExitOk;
  }
  const std::string file = vm["preload-file"].as<std::string>();
  json libraries = json::array();
  bool all_present = true;
  for (const auto& entry : preload_entries(read_text(file))) {
    if (!is_provider_entry(entry)) continue;
    const bool present = preload::is_regular_file(entry);
    all_present = all_present && present;
    libraries.push_back({{"path", entry}, {"exists", present}});
  }
  const bool installed = !libraries.empty();
  if (vm.count("json")) {
    context.out << json{{"installed", installed}, {"preload_file", file}, {"libraries", libraries}}.dump(2) << "\n";
  } else if (!installed) {
    context.out << "provider: not installed (" << file << " does not list it); use sluice-run, or 'sluicectl provider install'\n";
  } else {
    for (const auto& l : libraries) {
      context.out << "provider: installed machine-wide: " << file << " lists " << l["path"].get<std::string>()
                  << (l["exists"].get<bool>() ? "" : " (MISSING: the loader skips it with a warning to every program)") << "\n";
    }
  }
  return installed && !all_present ? kExitFailure : kExitOk;
}

}  // namespace

int provider_command(const CliContext& context, const std::vector<std::string>& args) {
  return dispatch(context, "provider",
                  {{"install", "steer every program: add the provider to /etc/ld.so.preload", install},
                   {"uninstall", "stop steering new programs: remove it from /etc/ld.so.preload", uninstall},
                   {"status", "show whether the provider is installed machine-wide", status}},
                  args);
}

}  // namespace sluice::cli
