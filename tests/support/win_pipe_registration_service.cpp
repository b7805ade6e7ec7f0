#include "tests/support/win_pipe_registration_service.h"

#include <algorithm>

#include "control/protocol/frame.h"

namespace sluice::test {

using nlohmann::json;

PipeRegistrationService::PipeRegistrationService(const std::string& endpoint, Decide decide)
    : decide_(std::move(decide)), listener_(transport::listen(endpoint)) {
  acceptor_ = std::thread([this] { accept_loop(); });
}

PipeRegistrationService::~PipeRegistrationService() {
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
    for (auto& c : connections_) c->shutdown();
  }
  listener_->close();
  acceptor_.join();
  for (auto& t : threads_) t.join();
}

std::size_t PipeRegistrationService::registrations() const {
  std::lock_guard lock(mutex_);
  return registrations_;
}

bool PipeRegistrationService::wait_for_registrations(std::size_t count, std::chrono::milliseconds timeout) const {
  std::unique_lock lock(mutex_);
  return changed_.wait_for(lock, timeout, [&] { return registrations_ >= count; });
}

bool PipeRegistrationService::wait_for_release(std::uint64_t flow_id, std::chrono::milliseconds timeout) const {
  std::unique_lock lock(mutex_);
  return changed_.wait_for(lock, timeout,
                           [&] { return std::find(releases_.begin(), releases_.end(), flow_id) != releases_.end(); });
}

void PipeRegistrationService::accept_loop() {
  for (;;) {
    auto connection = listener_->accept();
    if (!connection) return;
    std::lock_guard lock(mutex_);
    if (stopping_) return;
    transport::Connection* c = connection.get();
    connections_.push_back(std::move(connection));
    threads_.emplace_back([this, c] { serve(*c); });
  }
}

void PipeRegistrationService::serve(transport::Connection& connection) {
  protocol::FrameDecoder decoder;
  char buffer[4096];
  for (int idle = 0; idle < 600; ++idle) {  // an idle client is dropped after a minute, as sluiced drops one
    std::size_t n = 0;
    try {
      n = connection.read_some(buffer, sizeof buffer, std::chrono::milliseconds(100));
    } catch (const transport::TransportError& e) {
      if (e.kind() == transport::ErrorKind::timed_out) continue;
      return;
    }
    if (n == 0) return;
    idle = 0;
    decoder.feed(buffer, n);
    std::string payload;
    while (decoder.next(payload)) {
      const json request = json::parse(payload);
      if (request["method"] == "flow.release") {
        std::lock_guard lock(mutex_);
        releases_.push_back(request["params"]["flow_id"].get<std::uint64_t>());
        changed_.notify_all();
        continue;
      }
      {
        std::lock_guard lock(mutex_);
        ++registrations_;
        changed_.notify_all();
      }
      const json answer = decide_(request["params"]);
      const std::string frame =
          protocol::encode_frame(json{{"jsonrpc", "2.0"}, {"id", request["id"]}, {"result", answer}}.dump());
      try {
        connection.write_all(frame, std::chrono::milliseconds(5000));
      } catch (const transport::TransportError&) {
        return;
      }
    }
  }
}

}  // namespace sluice::test
