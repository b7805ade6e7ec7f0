#pragma once

// Registered TCP flows waiting for the application's connect to the relay listener,
// by the application's local port: what both relay backends look an accepted
// connection up in. Thread-safe. Platform-neutral.

#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <string>

#include "service/relay/flow.h"

namespace sluice::relay {

class ExpectedConnections {
 public:
  using Clock = std::chrono::steady_clock;

  // Expects a connection from flow->app_local until `deadline`; the flow is pending.
  void add(std::shared_ptr<Flow> flow, Clock::time_point deadline);
  // The flow expecting a connection from `peer`, taken out of the table; null if none.
  std::shared_ptr<Flow> claim(const Address& peer);
  // Fails the expectations whose deadline passed (the application never connected).
  void expire(Clock::time_point now);
  // Closes the expectation of flow `id`; false when there is none.
  bool close(std::uint64_t id);
  // Closes them all, recording `why` (the engine stops).
  void close_all(const std::string& why);

 private:
  struct Entry {
    std::shared_ptr<Flow> flow;
    Clock::time_point deadline;
  };
  std::mutex mutex_;
  std::multimap<std::uint16_t, Entry> entries_;
};

}  // namespace sluice::relay
