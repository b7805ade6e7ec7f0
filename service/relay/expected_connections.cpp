#include "service/relay/expected_connections.h"

#include "net/socket_address.h"
#include "service/relay/socket_owner.h"

namespace sluice::relay {

namespace {

// The whole peer address, family first: the provider registers the socket's bound
// address, usually the wildcard of its family, and an IPv4 registration never
// matches an IPv6 peer (nor the other way round), so a port is not raced from the
// other family. An IPv6 wildcard socket may arrive v4-mapped on the IPv4 listener
// (a machine without ::1). Which socket it really is, the identity check says.
bool address_matches(const net::Endpoint& expected, const net::Endpoint& peer) {
  if (expected.port != peer.port) return false;
  if (expected.ip == peer.ip) return true;
  if (!net::is_unspecified(expected.ip)) return false;
  const bool expected_ipv4 = net::is_ipv4(expected.ip);
  return expected_ipv4 ? net::is_ipv4(peer.ip) : true;
}

}  // namespace

void ExpectedConnections::add(std::shared_ptr<Flow> flow, Clock::time_point deadline) {
  flow->state = FlowState::pending;
  std::lock_guard lock(mutex_);
  const std::uint16_t port = flow->app_local.port;
  entries_.emplace(port, Entry{std::move(flow), deadline});
}

bool ExpectedConnections::expects(const net::Endpoint& peer) {
  std::lock_guard lock(mutex_);
  auto [first, last] = entries_.equal_range(peer.port);
  for (auto it = first; it != last; ++it) {
    if (address_matches(it->second.flow->app_local, peer)) return true;
  }
  return false;
}

std::shared_ptr<Flow> ExpectedConnections::claim(const net::Endpoint& peer, const SocketIdentity& connecting) {
  // Where the system names no owners (Wine), a registration could not prove a socket
  // either: any registered flow at the address takes the connection (sluiced logs it).
  const bool owners_known = tables_.reports_owners();
  std::lock_guard lock(mutex_);
  auto [first, last] = entries_.equal_range(peer.port);
  for (auto it = first; it != last; ++it) {
    if (address_matches(it->second.flow->app_local, peer) &&
        (owners_known ? same_socket(it->second.flow->app_socket, connecting) : it->second.flow->app_socket.known())) {
      auto flow = std::move(it->second.flow);
      entries_.erase(it);
      return flow;
    }
  }
  return nullptr;
}

ExpectedConnections::Accepted ExpectedConnections::accept(const net::Endpoint& peer, const net::Endpoint& listener) {
  if (!expects(peer)) return Accepted{};
  try {
    if (auto connecting = tables_.connected(peer, listener)) {
      if (auto flow = claim(peer, *connecting)) return Accepted{Accepted::claimed, std::move(flow)};
    }
  } catch (const std::exception&) {
    // The system's tables could not be read: not proven, so not carried.
  }
  return Accepted{Accepted::wrong_owner, nullptr};
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
