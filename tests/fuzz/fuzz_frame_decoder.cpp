// The control plane's frame decoder (control/protocol/frame.h) on arbitrary byte
// streams, as a client of the control socket may send them. Properties:
//  - what comes out does not depend on how the stream is cut into reads: whole, one
//    byte at a time, or in uneven pieces gives the same payloads and the same end;
//  - it is what a plain reading of the format says: 4-byte big-endian length, then
//    that many bytes; a length over the limit is refused as soon as its header is
//    complete (before any of its body is needed), and nothing after it is decoded;
//  - every payload re-encodes (encode_frame) to exactly the bytes it came from;
//  - has_partial() is true exactly when bytes of an unfinished frame are left.
// Each stream is decoded with the real limit (1 MiB) and with a 16-byte one, so
// short inputs reach the oversized-frame path too.

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "control/protocol/frame.h"
#include "tests/fuzz/fuzz_support.h"

namespace {

using sluice::fuzz::expect;
using sluice::protocol::FrameDecoder;
using sluice::protocol::FrameTooLarge;
using sluice::protocol::kFrameHeaderBytes;

struct Outcome {
  std::vector<std::string> payloads;
  bool too_large = false;
  std::uint64_t too_large_length = 0;
  bool partial = false;  // bytes of an unfinished frame left at the end
  bool operator==(const Outcome&) const = default;
};

// The format read directly from the definition.
Outcome read_directly(std::string_view stream, std::size_t limit) {
  Outcome out;
  while (true) {
    if (stream.size() < kFrameHeaderBytes) {
      out.partial = !stream.empty();
      return out;
    }
    std::uint64_t length = 0;
    for (std::size_t i = 0; i < kFrameHeaderBytes; ++i) length = length << 8 | static_cast<unsigned char>(stream[i]);
    if (length > limit) {
      out.too_large = true;
      out.too_large_length = length;
      return out;
    }
    if (stream.size() - kFrameHeaderBytes < length) {
      out.partial = true;
      return out;
    }
    out.payloads.emplace_back(stream.substr(kFrameHeaderBytes, length));
    stream.remove_prefix(kFrameHeaderBytes + length);
  }
}

// Feeds `stream` in pieces of the sizes `piece(i)` gives, draining after each.
template <class PieceSize>
Outcome decode_in_pieces(std::string_view stream, std::size_t limit, PieceSize piece) {
  Outcome out;
  FrameDecoder decoder(limit);
  std::size_t fed = 0;
  for (std::size_t i = 0; fed < stream.size(); ++i) {
    const std::size_t n = std::min(stream.size() - fed, std::max<std::size_t>(1, piece(i)));
    decoder.feed(stream.substr(fed, n));
    fed += n;
    try {
      std::string payload;
      while (decoder.next(payload)) out.payloads.push_back(payload);
    } catch (const FrameTooLarge& e) {
      out.too_large = true;
      out.too_large_length = e.length();
      return out;  // framing is lost: the service closes the connection here
    }
  }
  out.partial = decoder.has_partial();
  return out;
}

void check_stream(std::string_view stream, std::size_t limit) {
  const Outcome expected = read_directly(stream, limit);

  // Re-encoding the payloads gives back the decoded part of the stream.
  std::string reencoded;
  for (const auto& payload : expected.payloads) reencoded += sluice::protocol::encode_frame(payload, limit);
  expect(stream.substr(0, reencoded.size()) == reencoded, "payloads re-encode to the bytes they came from");

  const Outcome whole = decode_in_pieces(stream, limit, [&](std::size_t) { return stream.size(); });
  expect(whole == expected, "decoding the whole stream at once follows the format");
  const Outcome bytewise = decode_in_pieces(stream, limit, [](std::size_t) { return std::size_t{1}; });
  expect(bytewise == expected, "decoding one byte at a time gives the same as all at once");
  // Uneven pieces, taken from the stream's own bytes so each input is reproducible.
  const Outcome uneven = decode_in_pieces(stream, limit, [&](std::size_t i) {
    return 1 + static_cast<unsigned char>(stream[(i * 7) % stream.size()]) % 13;
  });
  expect(uneven == expected, "decoding in uneven pieces gives the same as all at once");
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view stream = sluice::fuzz::as_text(data, size);
  check_stream(stream, sluice::protocol::kMaxFrameBytes);
  check_stream(stream, 16);

  // encode_frame refuses exactly the payloads over its limit.
  bool refused = false;
  try {
    sluice::protocol::encode_frame(stream, 16);
  } catch (const FrameTooLarge&) {
    refused = true;
  }
  expect(refused == (stream.size() > 16), "encode_frame refuses a payload exactly when it exceeds the limit");
  return 0;
}
