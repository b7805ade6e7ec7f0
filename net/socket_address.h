#pragma once

// net::Endpoint to and from the system's sockaddr, for the relay backends, the
// metrics server and both providers. A v4-mapped sockaddr_in6 (::ffff:a.b.c.d) reads
// as the IPv4 endpoint a sockaddr_in would, since IpAddress holds IPv4 v4-mapped.

#include "net/ip_address.h"
#include "net/socket_api.h"  // generated: net/posix_socket_api.h or net/win_socket_api.h

namespace sluice::net {

struct SocketAddress {
  sockaddr_storage storage{};
  socklen_t length = 0;
  const sockaddr* get() const { return reinterpret_cast<const sockaddr*>(&storage); }
  int family() const { return storage.ss_family; }
};

// IPv4 endpoints become sockaddr_in, the others sockaddr_in6.
SocketAddress to_sockaddr(const Endpoint& endpoint);

// `endpoint` as a sockaddr of `family`, for a socket of that family: an IPv4
// endpoint for an AF_INET6 socket becomes v4-mapped. Returns the length written, or
// 0 when it cannot be said in that family (IPv6 for an AF_INET socket).
socklen_t to_sockaddr(const Endpoint& endpoint, int family, sockaddr_storage& out);

// nullopt unless `address` is AF_INET or AF_INET6 and `length` covers it.
std::optional<Endpoint> from_sockaddr(const sockaddr* address, socklen_t length);

// Copies into a caller's (address, length) pair the way the kernel does: at most
// *to_length bytes, and *to_length set to the full size.
void copy_out(const sockaddr_storage& from, socklen_t from_length, sockaddr* to, socklen_t* to_length);

}  // namespace sluice::net
