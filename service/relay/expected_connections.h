#pragma once

// Registered TCP flows waiting for the application's connect to the relay listener,
// by the application's local address: what both relay backends look an accepted
// connection up in. A connection is claimed only by the flow whose registered
// socket it comes from (socket_owner.h), so claiming another user's port, or the
// same port from the other family, wins nothing. Thread-safe. Platform-neutral.

#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <string>

#include "service/relay/flow.h"
#include "service/relay/socket_owner.h"

namespace sluice::relay {

class ExpectedConnections {
 public:
  using Clock = std::chrono::steady_clock;

  // The system tables accept() reads (the real ones unless a test injected others);
  // set before the engine starts accepting.
  void use_tables(SocketTables tables) { tables_ = std::move(tables); }

  // Expects a connection from flow->app_local until `deadline`; the flow is pending.
  void add(std::shared_ptr<Flow> flow, Clock::time_point deadline);
  // True when some flow expects a connection from `peer` (before the relay asks the
  // system who the connecting socket is: a stray connection costs no lookup).
  bool expects(const net::Endpoint& peer);
  // The flow expecting a connection from `peer` whose registered socket is
  // `connecting`, taken out of the table; null if none.
  std::shared_ptr<Flow> claim(const net::Endpoint& peer, const SocketIdentity& connecting);
  // What an accepted connection is: nobody's, registered but from another socket
  // than the one the registration proved, or a flow's (taken out of the table).
  struct Accepted {
    enum Kind { unexpected, wrong_owner, claimed } kind = unexpected;
    std::shared_ptr<Flow> flow;
  };
  // Decides a connection from `peer` accepted on the relay's `listener` address,
  // both backends alike: a stray connection costs no lookup; a registered one is
  // looked up (socket_owner.h) before anything is connected on its behalf.
  Accepted accept(const net::Endpoint& peer, const net::Endpoint& listener);
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
  SocketTables tables_;
  std::mutex mutex_;
  std::multimap<std::uint16_t, Entry> entries_;
};

}  // namespace sluice::relay
