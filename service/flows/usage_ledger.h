#pragma once

// Counts traffic per application in memory and hands it to the store in batches:
// the relay records on its hot path without touching SQLite, and a flusher thread
// writes the totals every --flush-interval and once more at shutdown.

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <map>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "service/store/policy_store.h"

namespace sluice::service {

enum class Direction { up, down };

class UsageLedger {
 public:
  void record(const std::string& app, Direction direction, std::uint64_t bytes, std::uint64_t packets);
  void record_drop(const std::string& app, std::uint64_t packets);

  // Returns what was counted since the last take, attributed to `day`, and resets.
  std::vector<store::UsageDelta> take(const std::string& day);

  // What has been counted for `app` and not yet taken (bytes up + down).
  std::uint64_t pending_bytes(const std::string& app) const;
  // The same for every program (the global volume cap).
  std::uint64_t pending_bytes_all() const;

 private:
  struct Counters {
    std::uint64_t bytes_up = 0, bytes_down = 0, packets_up = 0, packets_down = 0, dropped = 0;
  };
  mutable std::mutex mutex_;
  std::map<std::string, Counters> counters_;
};

// Today's date in UTC as YYYY-MM-DD: usage days are UTC days on every machine.
std::string utc_day();

class UsageFlusher {
 public:
  UsageFlusher(UsageLedger& ledger, store::PolicyStore& store, std::chrono::milliseconds interval);
  ~UsageFlusher();  // stops, with a final flush

  void stop();
  // Writes what the ledger holds now. Safe to call from any thread.
  void flush();
  // Called by every flush before it takes the ledger, to bring in what was counted
  // elsewhere since (the relay's counters): so a crash loses at most one interval of
  // counting, not an interval plus however old those counts were. Empty: none.
  // The owner of what it calls must unset it before that goes away.
  void set_collector(std::function<void()> collect);
  // Takes effect at once (a reload of flush-interval): the next flush is one new
  // interval from now.
  void set_interval(std::chrono::milliseconds interval);
  std::chrono::milliseconds interval() const;

 private:
  void run();

  UsageLedger& ledger_;
  store::PolicyStore& store_;
  mutable std::mutex wait_mutex_;
  std::condition_variable wake_;
  std::chrono::milliseconds interval_;  // guarded by wait_mutex_
  bool stopping_ = false;               // guarded by wait_mutex_
  std::mutex flush_mutex_;
  std::function<void()> collect_;       // guarded by flush_mutex_
  std::thread thread_;                  // last: it starts running in the constructor
};

}  // namespace sluice::service
