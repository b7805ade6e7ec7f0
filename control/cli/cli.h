#pragma once

#include <chrono>
#include <iosfwd>
#include <stdexcept>
#include <string>
#include <vector>

#include "control/cli/exit_status.h"
#include "control/transport/rpc_client.h"

namespace sluice::cli {

// Thrown by commands for a bad command line; becomes exit status 2. `command` is
// the full command that was misused ("rule add"), when known.
class UsageError : public std::runtime_error {
 public:
  explicit UsageError(const std::string& message, std::string command = "")
      : std::runtime_error(message), command_(std::move(command)) {}
  const std::string& command() const { return command_; }

 private:
  std::string command_;
};

// Thrown by commands that work locally (not through the service) when the work
// fails; becomes `status` (exit_status.h) with the message, which says how to fix it.
class CommandFailed : public std::runtime_error {
 public:
  explicit CommandFailed(const std::string& message, ExitStatus status = kExitFailure)
      : std::runtime_error(message), status_(status) {}
  ExitStatus status() const { return status_; }

 private:
  ExitStatus status_;
};

struct CliContext {
  std::string endpoint;
  std::chrono::milliseconds timeout{5000};
  std::ostream& out;
  std::ostream& err;

  // Connects to sluiced (and checks the protocol version).
  transport::RpcClient connect() const;
};

// Runs `sluicectl ARGS...` and returns its exit status. Output goes to out/err.
int run_cli(const std::vector<std::string>& args, std::ostream& out, std::ostream& err);

// Commands, one file each.
int status_command(const CliContext& context, const std::vector<std::string>& args);
int rule_command(const CliContext& context, const std::vector<std::string>& args);
int quota_command(const CliContext& context, const std::vector<std::string>& args);
int policy_command(const CliContext& context, const std::vector<std::string>& args);
int settings_command(const CliContext& context, const std::vector<std::string>& args);
int usage_command(const CliContext& context, const std::vector<std::string>& args);
int audit_command(const CliContext& context, const std::vector<std::string>& args);
int flows_command(const CliContext& context, const std::vector<std::string>& args);
int stats_command(const CliContext& context, const std::vector<std::string>& args);
int top_command(const CliContext& context, const std::vector<std::string>& args);
// provider_commands_<platform>.cpp: the platform's provider, installed machine-wide.
int provider_command(const CliContext& context, const std::vector<std::string>& args);
int service_command(const CliContext& context, const std::vector<std::string>& args);

}  // namespace sluice::cli
