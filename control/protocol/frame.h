#pragma once

// Control-plane framing: each message is a 4-byte big-endian length followed by
// that many bytes of UTF-8 JSON. A length over kMaxFrameBytes is a protocol error:
// the receiver answers with a JSON-RPC error and closes, without reading the body
// (a 2 GiB prefix must never make the service allocate 2 GiB).

#include <cstddef>
#include <cstdint>
#include <stdexcept>
#include <string>
#include <string_view>

namespace sluice::protocol {

inline constexpr std::size_t kFrameHeaderBytes = 4;
inline constexpr std::size_t kMaxFrameBytes = 1024 * 1024;

class FrameTooLarge : public std::length_error {
 public:
  FrameTooLarge(std::uint64_t length, std::size_t limit);
  std::uint64_t length() const { return length_; }

 private:
  std::uint64_t length_;
};

// Header + payload. Throws FrameTooLarge when the payload exceeds the limit.
std::string encode_frame(std::string_view payload, std::size_t limit = kMaxFrameBytes);

// Incremental decoder: feed() whatever bytes arrived, then call next() until it
// returns false. A reader that feeds at most bytes_wanted() at a time never makes
// it hold more than one frame's header and body (limit + 4 bytes); after a frame
// is taken, the buffer of a large one is given back, so an idle connection costs
// nothing however large its last request was.
class FrameDecoder {
 public:
  explicit FrameDecoder(std::size_t limit = kMaxFrameBytes) : limit_(limit) {}

  void feed(const char* data, std::size_t size) { buffer_.append(data, size); }
  void feed(std::string_view data) { buffer_.append(data); }

  // Moves the next complete payload into `payload` and returns true, or returns
  // false when more bytes are needed. Throws FrameTooLarge as soon as a header
  // announces an oversized frame.
  bool next(std::string& payload);

  // True when some bytes of an unfinished frame are buffered: an EOF now means
  // the peer sent a truncated frame.
  bool has_partial() const { return buffer_.size() > consumed_; }

  // How many more bytes complete the header, or the frame it announces (at least 1).
  std::size_t bytes_wanted() const;

  // Bytes held, buffered or reserved: what this connection's framing costs.
  std::size_t memory_held() const { return buffer_.capacity(); }

 private:
  std::size_t limit_;
  std::string buffer_;
  std::size_t consumed_ = 0;
};

}  // namespace sluice::protocol
