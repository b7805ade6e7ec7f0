#include "control/protocol/frame.h"

#include <string>

namespace sluice::protocol {

FrameTooLarge::FrameTooLarge(std::uint64_t length, std::size_t limit)
    : std::length_error("frame of " + std::to_string(length) + " bytes exceeds the limit of " + std::to_string(limit) +
                        " bytes"),
      length_(length) {}

std::string encode_frame(std::string_view payload, std::size_t limit) {
  if (payload.size() > limit) throw FrameTooLarge(payload.size(), limit);
  const auto n = static_cast<std::uint32_t>(payload.size());
  std::string out;
  out.reserve(kFrameHeaderBytes + payload.size());
  out.push_back(static_cast<char>((n >> 24) & 0xff));
  out.push_back(static_cast<char>((n >> 16) & 0xff));
  out.push_back(static_cast<char>((n >> 8) & 0xff));
  out.push_back(static_cast<char>(n & 0xff));
  out.append(payload);
  return out;
}

namespace {

// Buffers up to this size are kept between frames; larger ones are released.
constexpr std::size_t kKeptBufferBytes = 64 * 1024;

std::uint32_t announced_length(const char* header) {
  const auto* p = reinterpret_cast<const unsigned char*>(header);
  return (std::uint32_t{p[0]} << 24) | (std::uint32_t{p[1]} << 16) | (std::uint32_t{p[2]} << 8) | std::uint32_t{p[3]};
}

}  // namespace

std::size_t FrameDecoder::bytes_wanted() const {
  const std::size_t available = buffer_.size() - consumed_;
  if (available < kFrameHeaderBytes) return kFrameHeaderBytes - available;
  const std::uint32_t length = announced_length(buffer_.data() + consumed_);
  if (length > limit_) return 1;  // next() throws; what follows is never read
  const std::size_t frame = kFrameHeaderBytes + length;
  return available < frame ? frame - available : 1;
}

bool FrameDecoder::next(std::string& payload) {
  const std::size_t available = buffer_.size() - consumed_;
  if (available < kFrameHeaderBytes) return false;
  const std::uint32_t length = announced_length(buffer_.data() + consumed_);
  if (length > limit_) throw FrameTooLarge(length, limit_);
  if (available - kFrameHeaderBytes < length) {
    // Room for exactly this frame, once, instead of doubling past it while it arrives.
    if (consumed_ == 0) buffer_.reserve(kFrameHeaderBytes + length);
    return false;
  }
  payload.assign(buffer_, consumed_ + kFrameHeaderBytes, length);
  consumed_ += kFrameHeaderBytes + length;
  // Compact once the consumed prefix dominates, so a long-lived connection's
  // buffer stays proportional to one frame.
  if (consumed_ == buffer_.size()) {
    if (buffer_.capacity() > kKeptBufferBytes) std::string().swap(buffer_);
    else buffer_.clear();
    consumed_ = 0;
  } else if (consumed_ > buffer_.size() / 2) {
    buffer_.erase(0, consumed_);
    consumed_ = 0;
  }
  return true;
}

}  // namespace sluice::protocol
