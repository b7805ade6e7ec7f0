// POSIX host: foreground (systemd Type=notify, debugging) or a classic daemon.
// Signals are taken synchronously by one thread with sigwait, so the stop is
// requested from ordinary code, never from an async signal handler.

#include <fcntl.h>
#include <malloc.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <iostream>
#include <thread>

#include "service/process/host/host.h"

namespace sluice::service {
namespace {

sigset_t stop_signals() {
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGINT);
  sigaddset(&set, SIGTERM);
  sigaddset(&set, SIGHUP);
  sigaddset(&set, SIGQUIT);
  return set;
}

// Runs the body with SIGINT/SIGTERM/SIGQUIT turned into a stop request and SIGHUP
// into a reload of the configuration (the daemon convention; systemd's reload and
// `kill -HUP` both work).
ExitCode run_with_signals(HostContext& context, const ServiceBody& body) {
  // Blocked before any thread starts, so every thread inherits the mask and only
  // the sigwait thread ever receives these signals.
  sigset_t set = stop_signals();
  pthread_sigmask(SIG_BLOCK, &set, nullptr);
  ::signal(SIGPIPE, SIG_IGN);

  // systemd (Type=notify) learns when clients may connect and when a stop begins.
  context.ready = [ready = std::move(context.ready)] {
    ready();
    notify_service_manager("READY=1");
  };
  std::thread waiter([&context, set] {
    int signal_number = 0;
    while (sigwait(&set, &signal_number) == 0 && signal_number == SIGHUP && !context.stop.requested()) {
      context.reload.fire();
    }
    // Not when the body ended on its own and woke this thread to end it.
    if (!context.stop.requested()) notify_service_manager("STOPPING=1");
    context.stop.request();
  });
  ExitCode code = body(context);
  // Wake the waiter if the body ended on its own (start-up failure).
  context.stop.request();
  pthread_kill(waiter.native_handle(), SIGTERM);
  waiter.join();
  return code;
}

void redirect(int fd, int flags) {
  int null = ::open("/dev/null", flags);
  if (null >= 0) {
    ::dup2(null, fd);
    if (null != fd) ::close(null);
  }
}

}  // namespace

ExitCode run_interactive(bool foreground, const ServiceBody& body) {
  // glibc gives each thread that allocates its own arena and keeps a fragmented
  // arena's pages: the control plane's dispatch threads and the relay's workers each
  // holding their peak after a flood left sluiced 23 MiB above its baseline after
  // e2e.load_soak (within 16 MiB with two arenas). Two arenas cost no measurable
  // contention at sluiced's allocation rate.
  mallopt(M_ARENA_MAX, 2);
  StopSignal stop;
  if (foreground) {
    HostContext context{stop, [] {}, true};
    return run_with_signals(context, body);
  }

  // Daemon: the parent waits on a pipe until the grandchild is ready (one byte 0)
  // or has failed (its exit code), so a start script knows the outcome.
  int ready_pipe[2];
  if (::pipe(ready_pipe) != 0) {
    std::cerr << "sluiced: cannot create a pipe to daemonize\n";
    return ExitCode::runtime_error;
  }
  std::cout.flush();
  pid_t child = ::fork();
  if (child < 0) {
    std::cerr << "sluiced: cannot fork\n";
    return ExitCode::runtime_error;
  }
  if (child > 0) {
    ::close(ready_pipe[1]);
    unsigned char status = static_cast<unsigned char>(ExitCode::runtime_error);
    ssize_t n;
    do n = ::read(ready_pipe[0], &status, 1);
    while (n < 0 && errno == EINTR);
    ::waitpid(child, nullptr, 0);  // the intermediate child exits at once
    if (n != 1) status = static_cast<unsigned char>(ExitCode::runtime_error);
    return static_cast<ExitCode>(status);
  }

  ::close(ready_pipe[0]);
  ::setsid();
  if (::fork() > 0) ::_exit(0);  // no longer a session leader: can never get a terminal back
  ::umask(027);
  if (::chdir("/") != 0) ::_exit(static_cast<int>(ExitCode::runtime_error));
  redirect(STDIN_FILENO, O_RDONLY);
  redirect(STDOUT_FILENO, O_WRONLY);
  // stderr stays on the starting terminal until ready(), so start-up errors are seen.
  const int write_end = ready_pipe[1];
  HostContext context{stop,
                      [write_end] {
                        unsigned char ok = 0;
                        [[maybe_unused]] auto n = ::write(write_end, &ok, 1);
                        ::close(write_end);
                        redirect(STDERR_FILENO, O_WRONLY);
                      },
                      false};
  ExitCode code = run_with_signals(context, body);
  if (code != ExitCode::ok) {
    unsigned char failed = static_cast<unsigned char>(code);
    [[maybe_unused]] auto n = ::write(write_end, &failed, 1);  // EPIPE/EBADF after ready: ignored
  }
  ::_exit(static_cast<int>(code));
}

ExitCode service_command(const std::string& verb, const std::vector<std::string>&, const ServiceBody&) {
  std::cerr << "sluiced service " << verb
            << ": there is no service control manager on this platform.\n"
               "Run sluiced under systemd (packaging/systemd/sluiced.service), as a daemon ('sluiced'),\n"
               "or in the foreground ('sluiced --foreground').\n";
  return ExitCode::usage;
}

}  // namespace sluice::service
