#pragma once

#include <chrono>
#include <iosfwd>
#include <stdexcept>
#include <string>
#include <vector>

#include "control/transport/rpc_client.h"

namespace sluice::cli {

// Exit statuses shared by every command.
inline constexpr int kExitOk = 0;
inline constexpr int kExitFailure = 1;   // the service is unreachable or refused the request
inline constexpr int kExitUsage = 2;     // the command line is wrong

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
// fails; becomes exit status 1 with the message.
class CommandFailed : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
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
