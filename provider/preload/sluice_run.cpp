// sluice-run [options] -- PROGRAM [ARGS...]: runs an unmodified program with the
// provider loaded, so its connections and datagrams follow sluiced's policy. Like
// trickle or proxychains, but the policy is the central one.

#include <sys/stat.h>
#include <unistd.h>

#include <boost/program_options.hpp>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <iostream>

#include "common/platform/platform.h"
#include "control/transport/endpoint_trust.h"
#include "common/version.h"
#include "control/transport/rpc_client.h"
#include "provider/preload/launcher.h"
#include "provider/preload/posix_provider_settings.h"

namespace po = boost::program_options;
using namespace sluice;

namespace {

constexpr int kExitUsage = 2;
constexpr int kExitCannotRun = 127;

po::options_description options() {
  po::options_description o("Options");
  o.add_options()
      ("control", po::value<std::string>()->value_name("ENDPOINT"),
       "sluiced's control socket [default: $SLUICE_CONTROL, else sluicectl's default if sluiced listens "
       "there, else /etc/sluice/provider.conf, else /run/sluice/control.sock]")
      ("fail-mode", po::value<std::string>()->value_name("open|closed"),
       "what new flows do until sluiced answers: go direct, or fail [default: open; once sluiced "
       "has answered, its fail_mode setting]")
      ("timeout", po::value<unsigned>()->value_name("MS"),
       "how long a flow waits for sluiced's verdict before the fail mode decides [default: 250]")
      ("library", po::value<std::string>()->value_name("PATH"),
       "the provider library [default: libsluice_preload.so beside sluice-run, else in ../lib/sluice]")
      ("no-check", "do not check that sluiced answers before starting PROGRAM")
      ("help,h", "show this help")
      ("version", "show the version");
  return o;
}

void usage(std::ostream& out) {
  out << "Usage: sluice-run [options] [--] PROGRAM [ARGS...]\n\n"
         "Runs PROGRAM with the Sluice provider loaded (LD_PRELOAD): each TCP connection\n"
         "and UDP destination it opens is decided by sluiced's policy (direct, relay or\n"
         "block) and relayed flows are metered by its quotas. PROGRAM is not changed.\n"
         "Its children and the programs it execs are steered too; statically linked\n"
         "programs and those that clear their environment are not.\n\n"
      << options()
      << "\nExit status: PROGRAM's, or 127 when it cannot be run, 2 for bad usage.\n"
         "See 'sluicectl provider install' to steer every program on the machine.\n";
}

bool is_socket(const std::string& path) {
  struct stat st;
  return ::stat(path.c_str(), &st) == 0 && S_ISSOCK(st.st_mode);
}

}  // namespace

int main(int argc, char** argv) {
  const auto line = preload::split_launch_line(std::vector<std::string>(argv + 1, argv + argc));
  po::variables_map vm;
  try {
    po::store(po::command_line_parser(line.options).options(options()).run(), vm);
    po::notify(vm);
  } catch (const po::error& e) {
    std::cerr << "sluice-run: " << e.what() << "\nTry 'sluice-run --help'.\n";
    return kExitUsage;
  }
  if (vm.count("help")) {
    usage(std::cout);
    return 0;
  }
  if (vm.count("version")) {
    std::cout << "sluice-run " << version() << "\n";
    return 0;
  }
  if (line.program.empty()) {
    std::cerr << "sluice-run: no PROGRAM to run\nTry 'sluice-run --help'.\n";
    return kExitUsage;
  }

  // The provider reads these from the environment (provider/core/provider_config.h); checking them
  // here turns a typo into an error instead of a silently ignored setting.
  if (vm.count("fail-mode")) {
    const auto& mode = vm["fail-mode"].as<std::string>();
    if (!provider::parse_fail_mode(mode)) {
      std::cerr << "sluice-run: --fail-mode must be open or closed, not '" << mode << "'\n";
      return kExitUsage;
    }
    ::setenv("SLUICE_FAIL_MODE", mode.c_str(), 1);
  }
  if (vm.count("timeout")) {
    const unsigned ms = vm["timeout"].as<unsigned>();
    if (ms < 1 || ms > 60'000) {
      std::cerr << "sluice-run: --timeout must be 1-60000 milliseconds, not " << ms << "\n";
      return kExitUsage;
    }
    ::setenv("SLUICE_PROVIDER_TIMEOUT_MS", std::to_string(ms).c_str(), 1);
  }
  if (vm.count("control")) {
    std::string control = vm["control"].as<std::string>();
    if (control.empty() || control[0] != '/') {
      std::error_code error;
      control = std::filesystem::absolute(control, error).string();
    }
    ::setenv("SLUICE_CONTROL", control.c_str(), 1);
  } else if (const char* from_env = std::getenv("SLUICE_CONTROL"); (!from_env || !*from_env) &&
                                                                     is_socket(platform::default_control_endpoint())) {
    ::setenv("SLUICE_CONTROL", platform::default_control_endpoint().c_str(), 1);
  }
  // The provider refuses it silently (it never writes to a program's output): say so here.
  const std::string control = preload::load_provider_config().control;  // what the provider will use
  if (auto why = transport::control_socket_distrust(control)) {
    std::cerr << "sluice-run: not trusting the control socket " << control << ": " << *why
              << "; the provider treats the service as absent (its fail mode decides)\n";
  }

  std::string library;
  if (vm.count("library")) {
    library = vm["library"].as<std::string>();
    if (!preload::is_regular_file(library)) {
      std::cerr << "sluice-run: --library '" << library << "' is not a file\n";
      return kExitUsage;
    }
  } else if (auto found = preload::find_provider_library(preload::own_directory(), preload::is_regular_file)) {
    library = *found;
  } else {
    std::cerr << "sluice-run: cannot find libsluice_preload.so beside " << preload::own_directory()
              << " or in ../lib/sluice; name it with --library\n";
    return kExitCannotRun;
  }
  std::error_code error;
  library = std::filesystem::canonical(library, error).string();  // the program may chdir

  // What the provider will make of the configuration file and the environment: it
  // never writes to the program's output, so its complaints are said here.
  const provider::ProviderConfig config = preload::load_provider_config();
  for (const auto& problem : config.problems) std::cerr << "sluice-run: warning: ignored " << problem << "\n";
  if (config.disabled) std::cerr << "sluice-run: warning: SLUICE_PROVIDER_DISABLE is set: PROGRAM will not be steered\n";

  if (!vm.count("no-check")) {
    try {
      transport::RpcClient probe(config.control, std::chrono::milliseconds(1000), std::string("sluice-run/") + version());
    } catch (const std::exception& e) {
      std::cerr << "sluice-run: warning: sluiced does not answer at " << config.control << " (" << e.what()
                << "); new flows will " << (config.fail_mode == provider::FailMode::closed ? "fail" : "go direct")
                << " until it does\n";
    }
  }

  const char* existing = std::getenv("LD_PRELOAD");
  ::setenv("LD_PRELOAD", preload::compose_ld_preload(existing ? existing : "", library).c_str(), 1);
  std::vector<char*> args;
  for (const auto& word : line.program) args.push_back(const_cast<char*>(word.c_str()));
  args.push_back(nullptr);
  ::execvp(args[0], args.data());
  const int cause = errno;
  std::cerr << "sluice-run: cannot run '" << line.program[0] << "': " << std::strerror(cause) << "\n";
  return cause == ENOENT ? kExitCannotRun : 126;
}
