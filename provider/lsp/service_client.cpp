#include "provider/lsp/service_client.h"

namespace sluice::lsp {

namespace {

using Clock = std::chrono::steady_clock;

std::chrono::milliseconds left(Clock::time_point deadline) {
  const auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now());
  return ms.count() < 1 ? std::chrono::milliseconds(1) : ms;
}

}  // namespace

bool ServiceClient::exchange_locked(const std::string& payload, std::int64_t id, std::chrono::milliseconds timeout,
                                    std::optional<provider::RegisterAnswer>& answer) {
  const auto deadline = Clock::now() + timeout;
  if (!connection_) {
    connection_ = transport::connect(endpoint_, timeout);
    decoder_ = protocol::FrameDecoder();
  }
  connection_->write_all(protocol::encode_frame(payload), left(deadline));
  std::string reply;
  char buffer[4096];
  while (!decoder_.next(reply)) {
    if (Clock::now() >= deadline) return false;
    const std::size_t n = connection_->read_some(buffer, sizeof buffer, left(deadline));
    if (n == 0) return false;  // the service closed the connection (restart, idle timeout)
    decoder_.feed(buffer, n);
  }
  // An error answer decodes to nothing; the connection stays in step either way.
  answer = provider::decode_register_answer(reply, id);
  return true;
}

std::optional<provider::RegisterAnswer> ServiceClient::register_flow(const provider::RegisterRequest& request,
                                                                    std::chrono::milliseconds timeout) {
  std::lock_guard lock(mutex_);
  std::optional<provider::RegisterAnswer> answer;
  // A kept connection the service has since dropped fails on first use: one more
  // try on a fresh one.
  for (int attempt = 0; attempt < 2; ++attempt) {
    const bool reused = connection_ != nullptr;
    try {
      const std::int64_t id = next_id_++;
      if (exchange_locked(provider::encode_register(request, id), id, timeout, answer)) return answer;
    } catch (const std::exception&) {
      // not running, timed out, closed: all the same to the caller
    }
    connection_.reset();
    if (!reused) break;
  }
  return std::nullopt;
}

void ServiceClient::release(std::uint64_t flow_id) {
  std::lock_guard lock(mutex_);
  // sluiced keeps a provider's flows when it hangs up on the provider (its idle
  // timeout is far shorter than many sockets' lives), so a release must reach it:
  // a kept connection the service has since dropped fails on first use, and then
  // once more on a fresh one. A lost release leaves the flow open in the service.
  constexpr std::chrono::milliseconds kTimeout{100};
  const std::string frame = protocol::encode_frame(provider::encode_release(flow_id));
  for (int attempt = 0; attempt < 2; ++attempt) {
    const bool reused = connection_ != nullptr;
    try {
      if (!connection_) {
        connection_ = transport::connect(endpoint_, kTimeout);
        decoder_ = protocol::FrameDecoder();
      }
      connection_->write_all(frame, kTimeout);
      return;
    } catch (const std::exception&) {
      connection_.reset();
    }
    if (!reused) return;
  }
}

}  // namespace sluice::lsp
