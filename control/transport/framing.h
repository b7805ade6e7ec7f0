#pragma once

#include <chrono>
#include <optional>
#include <string>
#include <string_view>

#include "control/protocol/frame.h"
#include "control/transport/transport.h"

namespace sluice::transport {

// Reads until `decoder` yields a frame. Returns nullopt at a clean end of stream
// (between frames). Throws protocol::FrameTooLarge for an oversized header, and
// TransportError(closed) when the stream ends inside a frame.
std::optional<std::string> read_frame(Connection& connection, protocol::FrameDecoder& decoder,
                                      std::chrono::milliseconds timeout);

// The same, with two bounds: up to `idle_timeout` for a frame to begin, and once
// its first byte is here, `frame_timeout` for the whole frame. Without the second,
// a peer trickling one byte per idle period would hold the reader forever.
// Throws TransportError(timed_out) when either passes.
std::optional<std::string> read_frame(Connection& connection, protocol::FrameDecoder& decoder,
                                      std::chrono::milliseconds idle_timeout, std::chrono::milliseconds frame_timeout);

void write_frame(Connection& connection, std::string_view payload, std::chrono::milliseconds timeout);

}  // namespace sluice::transport
