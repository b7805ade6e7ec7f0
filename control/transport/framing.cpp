#include "control/transport/framing.h"

#include <algorithm>

namespace sluice::transport {

std::optional<std::string> read_frame(Connection& connection, protocol::FrameDecoder& decoder,
                                      std::chrono::milliseconds timeout) {
  return read_frame(connection, decoder, timeout, timeout);
}

std::optional<std::string> read_frame(Connection& connection, protocol::FrameDecoder& decoder,
                                      std::chrono::milliseconds idle_timeout, std::chrono::milliseconds frame_timeout) {
  using Clock = std::chrono::steady_clock;
  std::string payload;
  char buffer[16 * 1024];
  std::optional<Clock::time_point> frame_deadline;
  if (decoder.has_partial()) frame_deadline = Clock::now() + frame_timeout;
  while (!decoder.next(payload)) {
    std::chrono::milliseconds wait = idle_timeout;
    if (frame_deadline) {
      const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(*frame_deadline - Clock::now());
      if (left <= std::chrono::milliseconds::zero()) {
        throw TransportError(ErrorKind::timed_out,
                             "a frame was not completed within " + std::to_string(frame_timeout.count()) + " ms");
      }
      wait = std::min(wait, left);
    }
    // Never past the frame being read: the decoder then holds one frame at most.
    const std::size_t n = connection.read_some(buffer, std::min(sizeof buffer, decoder.bytes_wanted()), wait);
    if (n == 0) {
      if (decoder.has_partial()) throw TransportError(ErrorKind::closed, "connection closed in the middle of a frame");
      return std::nullopt;
    }
    decoder.feed(buffer, n);
    if (!frame_deadline && decoder.has_partial()) frame_deadline = Clock::now() + frame_timeout;
  }
  return payload;
}

void write_frame(Connection& connection, std::string_view payload, std::chrono::milliseconds timeout) {
  connection.write_all(protocol::encode_frame(payload), timeout);
}

}  // namespace sluice::transport
