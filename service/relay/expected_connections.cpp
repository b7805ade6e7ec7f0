#include "service/relay/expected_connections.h"

#include "service/relay/socket_address.h"

namespace sluice::relay {

namespace {

bool address_matches(const Address& expected, const Address& peer) {
  // The provider registers the socket's bound address, usually the wildcard; the
  // port alone then identifies it.
  return is_unspecified(expected.ip) || expected.ip == peer.ip;
}

}  // namespace

void ExpectedConnections::add(std::shared_ptr<Flow> flow, Clock::time_point deadline) {
  flow->state = FlowState::pending;
  std::lock_guard lock(mutex_);
  const std::uint16_t port = flow->app_local.port;
  entries_.emplace(port, Entry{std::move(flow), deadline});
}

std::shared_ptr<Flow> ExpectedConnections::claim(const Address& peer) {
  std::lock_guard lock(mutex_);
  auto [first, last] = entries_.equal_range(peer.port);
  for (auto it = first; it != last; ++it) {
    if (address_matches(it->second.flow->app_local, peer)) {
      auto flow = std::move(it->second.flow);
      entries_.erase(it);
      return flow;
    }
  }
  return nullptr;
}

void ExpectedConnections::expire(Clock::time_point now) {
  std::lock_guard lock(mutex_);
  for (auto it = entries_.begin(); it != entries_.end();) {
    if (now >= it->second.deadline) {
      it->second.flow->error = "the application never connected";
      it->second.flow->state = FlowState::failed;
      it = entries_.erase(it);
    } else {
      ++it;
    }
  }
}

bool ExpectedConnections::close(std::uint64_t id) {
  std::lock_guard lock(mutex_);
  for (auto it = entries_.begin(); it != entries_.end(); ++it) {
    if (it->second.flow->id == id) {
      it->second.flow->state = FlowState::closed;
      entries_.erase(it);
      return true;
    }
  }
  return false;
}

void ExpectedConnections::close_all(const std::string& why) {
  std::lock_guard lock(mutex_);
  for (auto& [port, entry] : entries_) {
    entry.flow->error = why;
    entry.flow->state = FlowState::closed;
  }
  entries_.clear();
}

}  // namespace sluice::relay
