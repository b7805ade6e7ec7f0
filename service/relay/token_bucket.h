#pragma once

// A token bucket in bytes: `rate` bytes per second accrue up to `burst`. Thread-safe:
// the flows of one application share its bucket across worker threads. Only a
// datagram larger than the depth runs the balance below zero (and is paid back before
// anything else passes), so the long-run rate never exceeds `rate`.

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <vector>

namespace sluice::relay {

class TokenBucket {
 public:
  using Clock = std::chrono::steady_clock;

  // Starts full. burst 0 means the default depth, default_burst(rate).
  TokenBucket(std::uint64_t rate, std::uint64_t burst, Clock::time_point now = Clock::now());

  // Changes the rate and depth (a quota was edited, a volume cap switched to its
  // throttle rate); the balance is kept, clipped to the new depth.
  void set_rate(std::uint64_t rate, std::uint64_t burst, Clock::time_point now = Clock::now());

  // Takes up to `want` bytes and returns how many were granted (0..want).
  std::uint64_t take(std::uint64_t want, Clock::time_point now = Clock::now());

  // Takes a whole datagram of `size` bytes or nothing. A datagram larger than the
  // depth passes once the bucket is full, leaving it in debt, so no size starves.
  bool take_packet(std::uint64_t size, Clock::time_point now = Clock::now());

  // Takes `amount` now even if the bucket runs into debt by it, and returns how long
  // until the debt is paid: the amount is the caller's from then on. Callers that run
  // dry and reserve are served in the order they reserved, so flows sharing a bucket
  // share it fairly instead of whichever wakes first taking everything. nullopt, and
  // nothing taken, at a zero rate: no wait can be promised until the rate changes.
  std::optional<Clock::duration> reserve(std::uint64_t amount, Clock::time_point now = Clock::now());

  // Returns bytes taken earlier but not used (a read that returned less than granted).
  void give_back(std::uint64_t bytes);

  // How long until `amount` bytes (clipped to the depth) are available.
  Clock::duration time_until(std::uint64_t amount, Clock::time_point now = Clock::now());

  std::uint64_t rate() const;
  std::uint64_t burst() const;

 private:
  void refill(Clock::time_point now);

  mutable std::mutex mutex_;
  std::uint64_t rate_, burst_;
  double tokens_;
  Clock::time_point last_;
};

// Grants from a chain of buckets at once: the smallest grant of any, taken from
// all (what a later bucket refuses is given back to the earlier ones).
// The depth used when a quota names none: a twentieth of a second of rate, so a
// transfer's duration is within a few percent of size / rate, and at least 4 KiB so
// slow rates are not metered a few bytes at a time.
std::uint64_t default_burst(std::uint64_t rate);

std::uint64_t take_from_all(const std::vector<std::shared_ptr<TokenBucket>>& chain, std::uint64_t want,
                            TokenBucket::Clock::time_point now = TokenBucket::Clock::now());

// take_packet() on every bucket of the chain, or on none.
bool take_packet_from_all(const std::vector<std::shared_ptr<TokenBucket>>& chain, std::uint64_t size,
                          TokenBucket::Clock::time_point now = TokenBucket::Clock::now());

// reserve() on every bucket of the chain and the longest wait, or on none.
std::optional<TokenBucket::Clock::duration> reserve_from_all(const std::vector<std::shared_ptr<TokenBucket>>& chain, std::uint64_t amount,
                                              TokenBucket::Clock::time_point now = TokenBucket::Clock::now());

// A throttled direction looks at its buckets again after at most this long, even if
// they said to wait longer: a quota raised by an administrator takes effect promptly.
inline TokenBucket::Clock::time_point throttle_deadline(TokenBucket::Clock::time_point now,
                                                        TokenBucket::Clock::duration wait) {
  return now + std::min<TokenBucket::Clock::duration>(wait, std::chrono::milliseconds(200));
}

// What one direction of a relayed TCP connection may read, metered by its chain.
// Both relay backends read this way: back-pressure on the application is simply not
// reading.
struct ReadAllowance {
  std::uint64_t reserved = 0;  // paid for in advance while waiting its turn

  // How many bytes (at most `room`) may be read now. 0 when the chain ran dry: the
  // next chunk is then reserved, so the flows sharing a chain take turns instead of
  // the first to wake taking every refill, and `retry_at` says when to look again.
  std::uint64_t grant(const std::vector<std::shared_ptr<TokenBucket>>& chain, std::uint64_t room,
                      TokenBucket::Clock::time_point now, TokenBucket::Clock::time_point& retry_at);
};

// The longest time_until(amount) of the chain; zero for an empty chain.
TokenBucket::Clock::duration time_until_all(const std::vector<std::shared_ptr<TokenBucket>>& chain, std::uint64_t amount,
                                            TokenBucket::Clock::time_point now = TokenBucket::Clock::now());

}  // namespace sluice::relay
