#include "control/protocol/frame.h"

#include <algorithm>
#include <vector>

#include <gtest/gtest.h>

namespace sluice::protocol {
namespace {

TEST(FrameTest, EncodesBigEndianLengthThenPayload) {
  const std::string frame = encode_frame("{}");
  ASSERT_EQ(frame.size(), 6u);
  EXPECT_EQ(frame.substr(0, 4), std::string("\0\0\0\2", 4));
  EXPECT_EQ(frame.substr(4), "{}");
}

TEST(FrameTest, RoundTripsSeveralFramesFedByteByByte) {
  const std::string wire = encode_frame("first") + encode_frame("") + encode_frame("third");
  FrameDecoder decoder;
  std::vector<std::string> frames;
  std::string payload;
  for (char c : wire) {
    decoder.feed(&c, 1);
    while (decoder.next(payload)) frames.push_back(payload);
  }
  EXPECT_EQ(frames, (std::vector<std::string>{"first", "", "third"}));
  EXPECT_FALSE(decoder.has_partial());
}

TEST(FrameTest, WaitsForTheWholeBody) {
  FrameDecoder decoder;
  const std::string wire = encode_frame("hello");
  decoder.feed(wire.substr(0, 7));
  std::string payload;
  EXPECT_FALSE(decoder.next(payload));
  EXPECT_TRUE(decoder.has_partial()) << "an EOF now is a truncated frame";
  decoder.feed(wire.substr(7));
  EXPECT_TRUE(decoder.next(payload));
  EXPECT_EQ(payload, "hello");
}

TEST(FrameTest, RejectsAnOversizedHeaderBeforeReadingTheBody) {
  FrameDecoder decoder;
  decoder.feed(std::string("\x80\x00\x00\x00", 4));  // 2 GiB
  std::string payload;
  try {
    decoder.next(payload);
    FAIL() << "a 2 GiB frame must be refused";
  } catch (const FrameTooLarge& e) {
    EXPECT_EQ(e.length(), 0x80000000u);
    EXPECT_NE(std::string(e.what()).find("2147483648"), std::string::npos);
  }
}

TEST(FrameTest, AcceptsExactlyTheLimitAndRefusesOneMore) {
  FrameDecoder decoder(16);
  decoder.feed(encode_frame(std::string(16, 'x'), 16));
  std::string payload;
  EXPECT_TRUE(decoder.next(payload));
  EXPECT_EQ(payload.size(), 16u);
  EXPECT_THROW(encode_frame(std::string(17, 'x'), 16), FrameTooLarge);
  decoder.feed(std::string("\0\0\0\x11", 4));
  EXPECT_THROW(decoder.next(payload), FrameTooLarge);
}

TEST(FrameTest, DefaultLimitIsOneMebibyte) { EXPECT_EQ(kMaxFrameBytes, 1024u * 1024u); }


// What read_frame does: feed at most bytes_wanted(), 16 KiB at a time.
TEST(FrameTest, HoldsNoMoreThanOneMaximalFrameWhileItArrives) {
  const std::string wire = encode_frame(std::string(kMaxFrameBytes, 'x')) + encode_frame("next");
  FrameDecoder decoder;
  std::size_t fed = 0, most_held = 0;
  std::vector<std::string> frames;
  std::string payload;
  for (int guard = 0; fed < wire.size() && guard < 1'000'000; ++guard) {
    const std::size_t n = std::min({std::size_t{16 * 1024}, decoder.bytes_wanted(), wire.size() - fed});
    decoder.feed(wire.data() + fed, n);
    fed += n;
    most_held = std::max(most_held, decoder.memory_held());
    while (decoder.next(payload)) frames.push_back(payload);
  }
  ASSERT_EQ(frames.size(), 2u);
  EXPECT_EQ(frames[1], "next");
  EXPECT_LE(most_held, kFrameHeaderBytes + kMaxFrameBytes + 64);  // the allocator may round up a little
  EXPECT_LT(decoder.memory_held(), 64u * 1024u);  // given back once the large frame was taken
}

TEST(FrameTest, WantsTheHeaderThenExactlyTheRestOfTheFrame) {
  FrameDecoder decoder;
  EXPECT_EQ(decoder.bytes_wanted(), kFrameHeaderBytes);
  const std::string wire = encode_frame("hello");
  decoder.feed(wire.substr(0, 2));
  EXPECT_EQ(decoder.bytes_wanted(), 2u);
  decoder.feed(wire.substr(2, 4));
  EXPECT_EQ(decoder.bytes_wanted(), 3u);
}

}  // namespace
}  // namespace sluice::protocol
