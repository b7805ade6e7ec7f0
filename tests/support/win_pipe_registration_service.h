#pragma once

// A stand-in for sluiced's side of the provider protocol on a Windows control pipe
// (the LSP's channel), through the real control transport: each flow.register is
// answered by a function the test sets, which may take as long as it likes (a slow
// service); each flow.release is recorded. The POSIX counterpart is
// fake_registration_service.

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include <nlohmann/json.hpp>

#include "control/transport/transport.h"

namespace sluice::test {

class PipeRegistrationService {
 public:
  // The result object for a registration's params; called on the connection's thread.
  using Decide = std::function<nlohmann::json(const nlohmann::json& params)>;

  PipeRegistrationService(const std::string& endpoint, Decide decide);
  ~PipeRegistrationService();
  PipeRegistrationService(const PipeRegistrationService&) = delete;
  PipeRegistrationService& operator=(const PipeRegistrationService&) = delete;

  std::size_t registrations() const;
  // Waits (at most `timeout`) until `count` registrations, or a release of `flow_id`, arrived.
  bool wait_for_registrations(std::size_t count, std::chrono::milliseconds timeout) const;
  bool wait_for_release(std::uint64_t flow_id, std::chrono::milliseconds timeout) const;

 private:
  void accept_loop();
  void serve(transport::Connection& connection);

  Decide decide_;
  std::unique_ptr<transport::Listener> listener_;
  mutable std::mutex mutex_;
  mutable std::condition_variable changed_;
  bool stopping_ = false;
  std::size_t registrations_ = 0;
  std::vector<std::uint64_t> releases_;
  std::vector<std::unique_ptr<transport::Connection>> connections_;
  std::vector<std::thread> threads_;
  std::thread acceptor_;
};

}  // namespace sluice::test
