#pragma once

// The LSP's connection to sluiced over the control pipe: one per process, kept
// open, every wait bounded by the caller's timeout. A late, garbled or missing
// answer is the same as none, and the connection is dropped so a late answer can
// never be taken for the next one. The service knows the caller by the pipe
// client's process id, never by anything the request says.

#include <chrono>
#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <string>

#include "control/protocol/frame.h"
#include "control/transport/transport.h"
#include "provider/client/flow_router.h"
#include "provider/client/registration.h"

namespace sluice::lsp {

class ServiceClient final : public provider::RegistrationClient {
 public:
  explicit ServiceClient(std::string endpoint) : endpoint_(std::move(endpoint)) {}

  // nullopt when the service is not there, does not answer in time, or refuses.
  std::optional<provider::RegisterAnswer> register_flow(const provider::RegisterRequest& request,
                                                       std::chrono::milliseconds timeout) override;
  // Best effort: a notification, nothing is awaited.
  void release(std::uint64_t flow_id) override;

 private:
  bool exchange_locked(const std::string& payload, std::int64_t id, std::chrono::milliseconds timeout,
                       std::optional<provider::RegisterAnswer>& answer);

  const std::string endpoint_;
  std::mutex mutex_;
  std::unique_ptr<transport::Connection> connection_;
  protocol::FrameDecoder decoder_;
  std::int64_t next_id_ = 1;
};

}  // namespace sluice::lsp
