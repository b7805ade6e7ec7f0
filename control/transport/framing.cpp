#include "control/transport/framing.h"

namespace sluice::transport {

std::optional<std::string> read_frame(Connection& connection, protocol::FrameDecoder& decoder,
                                      std::chrono::milliseconds timeout) {
  std::string payload;
  char buffer[16 * 1024];
  while (!decoder.next(payload)) {
    const std::size_t n = connection.read_some(buffer, sizeof buffer, timeout);
    if (n == 0) {
      if (decoder.has_partial()) throw TransportError(ErrorKind::closed, "connection closed in the middle of a frame");
      return std::nullopt;
    }
    decoder.feed(buffer, n);
  }
  return payload;
}

void write_frame(Connection& connection, std::string_view payload, std::chrono::milliseconds timeout) {
  connection.write_all(protocol::encode_frame(payload), timeout);
}

}  // namespace sluice::transport
