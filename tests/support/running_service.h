#pragma once

#include <chrono>
#include <future>
#include <optional>

#include "service/process/service_app.h"

namespace sluice::test {

// The real service body on a thread of the test process, hosted the way sluiced
// hosts it: constructed once it is ready (or has failed), stopped on destruction.
class RunningService {
 public:
  explicit RunningService(service::ServiceConfig config);
  ~RunningService();
  RunningService(const RunningService&) = delete;
  RunningService& operator=(const RunningService&) = delete;

  // Requests a stop and returns how the body ended.
  service::ExitCode stop();
  // Waits for a body that ends on its own (a start-up failure).
  service::ExitCode exit_code();

 private:
  service::ServiceConfig config_;
  StopSignal stop_;
  std::future<service::ExitCode> result_;
  std::optional<service::ExitCode> code_;
};

}  // namespace sluice::test
