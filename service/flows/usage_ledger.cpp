#include "service/flows/usage_ledger.h"

#include <fmt/chrono.h>
#include <spdlog/spdlog.h>

#include <ctime>

namespace sluice::service {

void UsageLedger::record(const std::string& app, Direction direction, std::uint64_t bytes, std::uint64_t packets) {
  std::lock_guard lock(mutex_);
  Counters& c = counters_[app];
  if (direction == Direction::up) {
    c.bytes_up += bytes;
    c.packets_up += packets;
  } else {
    c.bytes_down += bytes;
    c.packets_down += packets;
  }
}

void UsageLedger::record_drop(const std::string& app, std::uint64_t packets) {
  std::lock_guard lock(mutex_);
  counters_[app].dropped += packets;
}

std::vector<store::UsageDelta> UsageLedger::take(const std::string& day) {
  std::map<std::string, Counters> taken;
  {
    std::lock_guard lock(mutex_);
    taken.swap(counters_);
  }
  std::vector<store::UsageDelta> deltas;
  for (const auto& [app, c] : taken) {
    deltas.push_back(store::UsageDelta{app, day, c.bytes_up, c.bytes_down, c.packets_up, c.packets_down, c.dropped});
  }
  return deltas;
}

std::uint64_t UsageLedger::pending_bytes(const std::string& app) const {
  std::lock_guard lock(mutex_);
  auto it = counters_.find(app);
  return it == counters_.end() ? 0 : it->second.bytes_up + it->second.bytes_down;
}

std::uint64_t UsageLedger::pending_bytes_all() const {
  std::lock_guard lock(mutex_);
  std::uint64_t total = 0;
  for (const auto& [app, c] : counters_) total += c.bytes_up + c.bytes_down;
  return total;
}

std::string utc_day() { return fmt::format("{:%Y-%m-%d}", fmt::gmtime(std::time(nullptr))); }

UsageFlusher::UsageFlusher(UsageLedger& ledger, store::PolicyStore& store, std::chrono::milliseconds interval)
    : ledger_(ledger), store_(store), interval_(interval), thread_([this] { run(); }) {}

UsageFlusher::~UsageFlusher() { stop(); }

void UsageFlusher::run() {
  std::unique_lock lock(wait_mutex_);
  while (!stopping_) {
    const auto period = interval_;
    // A new interval starts a new period at once, rather than after the old one.
    if (wake_.wait_for(lock, period, [&] { return stopping_ || interval_ != period; })) continue;
    lock.unlock();
    flush();
    lock.lock();
  }
}

void UsageFlusher::set_interval(std::chrono::milliseconds interval) {
  {
    std::lock_guard lock(wait_mutex_);
    interval_ = interval;
  }
  wake_.notify_all();
}

std::chrono::milliseconds UsageFlusher::interval() const {
  std::lock_guard lock(wait_mutex_);
  return interval_;
}

void UsageFlusher::stop() {
  {
    std::lock_guard lock(wait_mutex_);
    stopping_ = true;
  }
  wake_.notify_all();
  if (thread_.joinable()) {
    thread_.join();
    flush();  // what was counted since the last interval
  }
}

void UsageFlusher::set_collector(std::function<void()> collect) {
  std::lock_guard lock(flush_mutex_);
  collect_ = std::move(collect);
}

void UsageFlusher::flush() {
  std::lock_guard lock(flush_mutex_);
  if (collect_) {
    try {
      collect_();
    } catch (const std::exception& e) {
      SPDLOG_ERROR("usage: cannot collect the relay's counts: {}; writing what the ledger holds", e.what());
    }
  }
  auto deltas = ledger_.take(utc_day());
  if (deltas.empty()) return;
  try {
    store_.add_usage(deltas);
  } catch (const std::exception& e) {
    // Keep the counts: put them back so the next flush retries them.
    SPDLOG_ERROR("usage: cannot write {} counters: {}; will retry", deltas.size(), e.what());
    for (const auto& d : deltas) {
      ledger_.record(d.app, Direction::up, d.bytes_up, d.packets_up);
      ledger_.record(d.app, Direction::down, d.bytes_down, d.packets_down);
      if (d.dropped) ledger_.record_drop(d.app, d.dropped);
    }
  }
}

}  // namespace sluice::service
