#include "tests/support/running_service.h"

namespace sluice::test {

using namespace std::chrono_literals;

RunningService::RunningService(service::ServiceConfig config) : config_(std::move(config)) {
  std::promise<void> ready;
  auto ready_future = ready.get_future();
  result_ = std::async(std::launch::async, [this, ready = std::move(ready)]() mutable {
    bool signalled = false;
    service::HostContext host{stop_, [&] { signalled = true; ready.set_value(); }, true};
    service::ExitCode code = service::run_service(config_, host);
    if (!signalled) ready.set_value();
    return code;
  });
  ready_future.wait_for(60s);
}

RunningService::~RunningService() { stop(); }

service::ExitCode RunningService::stop() {
  stop_.request();
  if (!code_) code_ = result_.get();
  return *code_;
}

service::ExitCode RunningService::exit_code() {
  if (!code_ && result_.wait_for(60s) == std::future_status::ready) code_ = result_.get();
  return code_.value_or(service::ExitCode::runtime_error);
}

}  // namespace sluice::test
