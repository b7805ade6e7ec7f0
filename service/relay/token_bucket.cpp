#include "service/relay/token_bucket.h"

#include <algorithm>
#include <cmath>

namespace sluice::relay {

std::uint64_t default_burst(std::uint64_t rate) { return std::max<std::uint64_t>(rate / 20, 4096); }

TokenBucket::TokenBucket(std::uint64_t rate, std::uint64_t burst, Clock::time_point now)
    : rate_(rate), burst_(burst ? burst : default_burst(rate)), tokens_(static_cast<double>(burst_)), last_(now) {}

void TokenBucket::refill(Clock::time_point now) {
  if (now <= last_) return;
  const double elapsed = std::chrono::duration<double>(now - last_).count();
  tokens_ = std::min(static_cast<double>(burst_), tokens_ + elapsed * static_cast<double>(rate_));
  last_ = now;
}

void TokenBucket::set_rate(std::uint64_t rate, std::uint64_t burst, Clock::time_point now) {
  std::lock_guard lock(mutex_);
  refill(now);
  rate_ = rate;
  burst_ = burst ? burst : default_burst(rate);
  tokens_ = std::min(tokens_, static_cast<double>(burst_));
}

std::uint64_t TokenBucket::take(std::uint64_t want, Clock::time_point now) {
  std::lock_guard lock(mutex_);
  refill(now);
  if (tokens_ < 1) return 0;
  const auto granted = std::min<std::uint64_t>(want, static_cast<std::uint64_t>(tokens_));
  tokens_ -= static_cast<double>(granted);
  return granted;
}

bool TokenBucket::take_packet(std::uint64_t size, Clock::time_point now) {
  std::lock_guard lock(mutex_);
  refill(now);
  if (tokens_ < static_cast<double>(std::min(size, burst_))) return false;
  tokens_ -= static_cast<double>(size);
  return true;
}

std::optional<TokenBucket::Clock::duration> TokenBucket::reserve(std::uint64_t amount, Clock::time_point now) {
  std::lock_guard lock(mutex_);
  refill(now);
  if (rate_ == 0) return std::nullopt;
  tokens_ -= static_cast<double>(amount);
  if (tokens_ >= 0) return Clock::duration::zero();
  return std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(-tokens_ / static_cast<double>(rate_))) +
         Clock::duration(1);
}

void TokenBucket::give_back(std::uint64_t bytes) {
  std::lock_guard lock(mutex_);
  tokens_ = std::min(static_cast<double>(burst_), tokens_ + static_cast<double>(bytes));
}

TokenBucket::Clock::duration TokenBucket::time_until(std::uint64_t amount, Clock::time_point now) {
  std::lock_guard lock(mutex_);
  refill(now);
  const double needed = static_cast<double>(std::min(amount, burst_)) - tokens_;
  if (needed <= 0) return Clock::duration::zero();
  if (rate_ == 0) return std::chrono::hours(24);  // a zero rate: nothing passes until the quota changes
  return std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(needed / static_cast<double>(rate_))) +
         Clock::duration(1);
}

std::uint64_t TokenBucket::rate() const {
  std::lock_guard lock(mutex_);
  return rate_;
}

std::uint64_t TokenBucket::burst() const {
  std::lock_guard lock(mutex_);
  return burst_;
}

std::uint64_t take_from_all(const std::vector<std::shared_ptr<TokenBucket>>& chain, std::uint64_t want,
                            TokenBucket::Clock::time_point now) {
  std::uint64_t granted = want;
  std::size_t taken = 0;
  for (; taken < chain.size() && granted > 0; ++taken) {
    const std::uint64_t got = chain[taken]->take(granted, now);
    // Earlier buckets granted more than this one: return the difference to them.
    for (std::size_t i = 0; i < taken; ++i) chain[i]->give_back(granted - got);
    granted = got;
  }
  return granted;
}

bool take_packet_from_all(const std::vector<std::shared_ptr<TokenBucket>>& chain, std::uint64_t size,
                          TokenBucket::Clock::time_point now) {
  for (std::size_t i = 0; i < chain.size(); ++i) {
    if (!chain[i]->take_packet(size, now)) {
      for (std::size_t j = 0; j < i; ++j) chain[j]->give_back(size);
      return false;
    }
  }
  return true;
}

std::optional<TokenBucket::Clock::duration> reserve_from_all(const std::vector<std::shared_ptr<TokenBucket>>& chain,
                                                            std::uint64_t amount, TokenBucket::Clock::time_point now) {
  TokenBucket::Clock::duration longest = TokenBucket::Clock::duration::zero();
  for (std::size_t i = 0; i < chain.size(); ++i) {
    auto wait = chain[i]->reserve(amount, now);
    if (!wait) {
      for (std::size_t j = 0; j < i; ++j) chain[j]->give_back(amount);
      return std::nullopt;
    }
    longest = std::max(longest, *wait);
  }
  return longest;
}

TokenBucket::Clock::duration time_until_all(const std::vector<std::shared_ptr<TokenBucket>>& chain, std::uint64_t amount,
                                            TokenBucket::Clock::time_point now) {
  TokenBucket::Clock::duration longest = TokenBucket::Clock::duration::zero();
  for (const auto& bucket : chain) longest = std::max(longest, bucket->time_until(amount, now));
  return longest;
}

std::uint64_t ReadAllowance::grant(const std::vector<std::shared_ptr<TokenBucket>>& chain, std::uint64_t room,
                                   TokenBucket::Clock::time_point now, TokenBucket::Clock::time_point& retry_at) {
  // A reservation is claimed in chunks of this size: small enough that flows sharing
  // a quota interleave finely, large enough that a fast one is not woken per packet.
  constexpr std::uint64_t kChunk = 16 * 1024;
  if (chain.empty()) return room;
  if (reserved > 0) {
    const std::uint64_t granted = std::min(reserved, room);
    for (const auto& bucket : chain) bucket->give_back(reserved - granted);
    reserved = 0;
    return granted;
  }
  if (const std::uint64_t granted = take_from_all(chain, room, now); granted > 0) return granted;
  const std::uint64_t chunk = std::min(room, kChunk);
  if (auto wait = reserve_from_all(chain, chunk, now)) {
    reserved = chunk;
    retry_at = now + *wait;
  } else {  // a zero rate: look again now and then, for a quota that changed
    retry_at = throttle_deadline(now, time_until_all(chain, chunk, now));
  }
  return 0;
}

}  // namespace sluice::relay
