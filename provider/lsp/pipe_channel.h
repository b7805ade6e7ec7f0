#pragma once

// The LSP's channel to sluiced (provider/core/service_channel.h): the control pipe,
// through the control transport (which checks who serves the pipe before the first
// byte is written; pipe_trust.h). The service process is the pipe server's pid.
// Platform-neutral over the transport, so lsp_service_client_test runs it natively
// too, over a Unix socket.

#include <cstdint>
#include <memory>
#include <string>

#include "control/transport/transport.h"
#include "provider/core/service_channel.h"

namespace sluice::lsp {

class PipeChannel final : public provider::ServiceChannel {
 public:
  explicit PipeChannel(std::string endpoint) : endpoint_(std::move(endpoint)) {}

  bool is_open() override { return connection_ != nullptr; }
  bool connect(Clock::time_point deadline, bool* absent) override;
  bool send(const std::string& bytes, Clock::time_point deadline) override;
  bool receive(char* buffer, std::size_t size, std::size_t* received, Clock::time_point deadline) override;
  void disconnect() override { connection_.reset(); }
  bool hung_up() override;
  std::int64_t service_instance() override { return service_pid_; }

 private:
  const std::string endpoint_;
  std::unique_ptr<transport::Connection> connection_;
  std::int64_t service_pid_ = 0;
};

}  // namespace sluice::lsp
