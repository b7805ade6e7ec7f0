#pragma once

// relay::Address to and from the system's sockaddr, for both relay backends.
// Platform-neutral: the socket headers come from the platform's socket_api.h.

#include "socket_api.h"  // common/platform/{posix,win}/, picked by CMake

#include "service/relay/flow.h"

namespace sluice::relay {

struct SocketAddress {
  sockaddr_storage storage{};
  socklen_t length = 0;
  const sockaddr* get() const { return reinterpret_cast<const sockaddr*>(&storage); }
  int family() const { return storage.ss_family; }
};

// IPv4 addresses (held v4-mapped) become sockaddr_in, the others sockaddr_in6.
SocketAddress to_sockaddr(const Address& address);
// sockaddr_in and sockaddr_in6 to Address; port 0 and :: for any other family.
Address from_sockaddr(const sockaddr* address, socklen_t length);

bool is_unspecified(const policy::IpAddress& ip);  // 0.0.0.0 or ::
bool is_ipv4_family(const Address& address);

}  // namespace sluice::relay
