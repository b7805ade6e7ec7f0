// Token-bucket arithmetic, driven with explicit time points (no sleeping, no clocks).

#include "service/relay/token_bucket.h"

#include <gtest/gtest.h>

namespace sluice::relay {
namespace {

using namespace std::chrono_literals;
using Clock = TokenBucket::Clock;

const Clock::time_point t0{};

TEST(TokenBucket, StartsFullAndNeverGrantsMoreThanTheDepth) {
  TokenBucket bucket(1000, 500, t0);
  EXPECT_EQ(bucket.take(800, t0), 500u);
  EXPECT_EQ(bucket.take(1, t0), 0u);
}

TEST(TokenBucket, RefillsAtTheRateUpToTheDepth) {
  TokenBucket bucket(1000, 500, t0);
  bucket.take(500, t0);
  EXPECT_EQ(bucket.take(1000, t0 + 100ms), 100u);
  EXPECT_EQ(bucket.take(1000, t0 + 10s), 500u);  // capped at the depth, not 9 900
}

TEST(TokenBucket, LongRunRateIsTheConfiguredRate) {
  TokenBucket bucket(64 * 1024, 0, t0);
  std::uint64_t granted = bucket.take(UINT64_MAX, t0);  // the initial burst
  const std::uint64_t burst = granted;
  for (int ms = 1; ms <= 10'000; ++ms) granted += bucket.take(UINT64_MAX, t0 + std::chrono::milliseconds(ms));
  // Ten seconds at 64 KiB/s plus the burst, give or take a byte per step of rounding.
  EXPECT_NEAR(static_cast<double>(granted - burst), 10.0 * 64 * 1024, 10'000.0);
}

TEST(TokenBucket, DefaultDepthIsATwentiethOfASecondWithAFloor) {
  EXPECT_EQ(default_burst(1024 * 1024), 1024u * 1024 / 20);
  EXPECT_EQ(default_burst(1000), 4096u);
  EXPECT_EQ(TokenBucket(2'000'000, 0, t0).burst(), 100'000u);
}

TEST(TokenBucket, GiveBackReturnsUnusedTokens) {
  TokenBucket bucket(1000, 500, t0);
  EXPECT_EQ(bucket.take(500, t0), 500u);
  bucket.give_back(200);
  EXPECT_EQ(bucket.take(500, t0), 200u);
}

TEST(TokenBucket, TimeUntilSaysWhenBytesAreAvailable) {
  TokenBucket bucket(1000, 500, t0);
  bucket.take(500, t0);
  EXPECT_EQ(bucket.time_until(0, t0), Clock::duration::zero());
  const auto wait = bucket.time_until(100, t0);
  EXPECT_GE(wait, 100ms);
  EXPECT_LE(wait, 101ms);
  // More than the depth is clipped to the depth: it would never be available otherwise.
  EXPECT_LE(bucket.time_until(10'000, t0), 501ms);
}

TEST(TokenBucket, ZeroRateWaitsForAPolicyChange) {
  TokenBucket bucket(0, 100, t0);
  bucket.take(100, t0);
  EXPECT_EQ(bucket.take(1, t0 + 1h), 0u);
  EXPECT_GE(bucket.time_until(1, t0), 1h);
  bucket.set_rate(1000, 100, t0 + 1h);
  EXPECT_EQ(bucket.take(100, t0 + 1h + 100ms), 100u);
}

TEST(TokenBucket, SetRateKeepsTheBalanceClippedToTheNewDepth) {
  TokenBucket bucket(1000, 1000, t0);
  bucket.set_rate(10, 100, t0);
  EXPECT_EQ(bucket.take(1000, t0), 100u);
  EXPECT_EQ(bucket.rate(), 10u);
}

TEST(TokenBucket, PacketsPassWholeOrNotAtAll) {
  TokenBucket bucket(1000, 1500, t0);
  EXPECT_TRUE(bucket.take_packet(1400, t0));
  EXPECT_FALSE(bucket.take_packet(1400, t0));  // 100 left: not enough, nothing taken
  EXPECT_EQ(bucket.take(1000, t0), 100u);
}

TEST(TokenBucket, PacketLargerThanTheDepthPassesWhenFullAndIsPaidBack) {
  TokenBucket bucket(1000, 500, t0);
  EXPECT_TRUE(bucket.take_packet(1500, t0));  // full: passes, 1000 in debt
  EXPECT_FALSE(bucket.take_packet(1, t0 + 500ms));
  EXPECT_EQ(bucket.take(1000, t0 + 1s), 0u);       // debt paid back exactly now
  EXPECT_EQ(bucket.take(1000, t0 + 1100ms), 100u);
}

TEST(TokenBucketChain, GrantsTheSmallestAndReturnsTheRest) {
  auto wide = std::make_shared<TokenBucket>(1000, 1000, t0);
  auto narrow = std::make_shared<TokenBucket>(1000, 300, t0);
  std::vector chain{wide, narrow};
  EXPECT_EQ(take_from_all(chain, 800, t0), 300u);
  // The wide bucket gave only what the narrow one let through.
  EXPECT_EQ(wide->take(1000, t0), 700u);
}

TEST(TokenBucketChain, EmptyChainIsUnlimited) {
  std::vector<std::shared_ptr<TokenBucket>> none;
  EXPECT_EQ(take_from_all(none, 12345, t0), 12345u);
  EXPECT_TRUE(take_packet_from_all(none, 65000, t0));
  EXPECT_EQ(time_until_all(none, 1, t0), Clock::duration::zero());
}

TEST(TokenBucketChain, PacketRefusedByOneIsTakenFromNone) {
  auto a = std::make_shared<TokenBucket>(1000, 2000, t0);
  auto b = std::make_shared<TokenBucket>(1000, 2000, t0);
  std::vector chain{a, b};
  b->take(1900, t0);
  EXPECT_FALSE(take_packet_from_all(chain, 1000, t0));
  EXPECT_EQ(a->take(5000, t0), 2000u);
}

TEST(TokenBucketChain, WaitsForTheSlowestBucket) {
  auto fast = std::make_shared<TokenBucket>(10'000, 1000, t0);
  auto slow = std::make_shared<TokenBucket>(100, 1000, t0);
  fast->take(1000, t0);
  slow->take(1000, t0);
  std::vector chain{fast, slow};
  EXPECT_GE(time_until_all(chain, 100, t0), 1s);
}

TEST(TokenBucket, ReservationsAreServedInTheOrderTheyWereMade) {
  TokenBucket bucket(1000, 100, t0);
  bucket.take(100, t0);
  // Two flows run dry at once: the first in line waits for one chunk, the second for two.
  const auto first = bucket.reserve(100, t0);
  const auto second = bucket.reserve(100, t0);
  ASSERT_TRUE(first && second);
  EXPECT_NEAR(std::chrono::duration<double>(*first).count(), 0.1, 0.001);
  EXPECT_NEAR(std::chrono::duration<double>(*second).count(), 0.2, 0.001);
  // Meanwhile nothing is granted to a third that did not wait in line.
  EXPECT_EQ(bucket.take(50, t0 + 150ms), 0u);
  EXPECT_EQ(bucket.take(50, t0 + 250ms), 50u);
}

TEST(TokenBucket, ReservingWhatIsThereCostsNoWait) {
  TokenBucket bucket(1000, 500, t0);
  EXPECT_EQ(bucket.reserve(200, t0), Clock::duration::zero());
  TokenBucket stopped(0, 100, t0);
  stopped.take(100, t0);
  EXPECT_FALSE(stopped.reserve(10, t0)) << "no promise at a zero rate";
  EXPECT_EQ(bucket.take(1000, t0), 300u);
}

TEST(TokenBucketChain, ReservationWaitsForTheSlowestBucket) {
  auto fast = std::make_shared<TokenBucket>(10'000, 1000, t0);
  auto slow = std::make_shared<TokenBucket>(100, 100, t0);
  slow->take(100, t0);
  std::vector chain{fast, slow};
  EXPECT_NEAR(std::chrono::duration<double>(*reserve_from_all(chain, 100, t0)).count(), 1.0, 0.001);
}

}  // namespace
TEST(ReadAllowance, AnUnmeteredDirectionReadsAllItHasRoomFor) {
  ReadAllowance allowance;
  Clock::time_point retry{};
  EXPECT_EQ(allowance.grant({}, 5000, t0, retry), 5000u);
}

TEST(ReadAllowance, ADryChainReservesAChunkThatIsGrantedWhenItsTurnComes) {
  auto bucket = std::make_shared<TokenBucket>(16 * 1024, 16 * 1024, t0);
  const std::vector<std::shared_ptr<TokenBucket>> chain{bucket};
  ReadAllowance allowance;
  Clock::time_point retry{};
  EXPECT_EQ(allowance.grant(chain, 64 * 1024, t0, retry), 16u * 1024);  // the full bucket
  EXPECT_EQ(allowance.grant(chain, 64 * 1024, t0, retry), 0u);          // dry: reserved
  EXPECT_EQ(allowance.reserved, 16u * 1024);
  EXPECT_GE(retry, t0 + 1s);  // 16 KiB at 16 KiB/s (rounded up)
  EXPECT_LE(retry, t0 + 1s + 1ms);
  // At its turn the reservation is read without taking again; what the room cannot
  // hold goes back to the bucket.
  EXPECT_EQ(allowance.grant(chain, 4096, retry, retry), 4096u);
  EXPECT_EQ(allowance.reserved, 0u);
  EXPECT_EQ(bucket->take(64 * 1024, retry), 12u * 1024);
}

TEST(ReadAllowance, AZeroRateLooksAgainSoonForAChangedQuota) {
  auto bucket = std::make_shared<TokenBucket>(0, 4096, t0);
  bucket->take(4096, t0);
  ReadAllowance allowance;
  Clock::time_point retry{};
  EXPECT_EQ(allowance.grant({bucket}, 1000, t0, retry), 0u);
  EXPECT_EQ(allowance.reserved, 0u);
  EXPECT_GT(retry, t0);
  EXPECT_LE(retry, t0 + 200ms);
}

}  // namespace sluice::relay
