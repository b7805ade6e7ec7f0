#pragma once

// Socket plumbing for the POSIX relay backend: conversions between relay::Address and
// sockaddr, the few socket options the engine sets, and errno turned into
// std::system_error once, here, at the system-call boundary.

#include <netinet/in.h>
#include <sys/socket.h>

#include <string>

#include "service/relay/flow.h"

namespace sluice::relay::posix {

struct SocketAddress {
  sockaddr_storage storage{};
  socklen_t length = 0;
  const sockaddr* get() const { return reinterpret_cast<const sockaddr*>(&storage); }
  int family() const { return storage.ss_family; }
};

// IPv4 addresses (held v4-mapped) become sockaddr_in, unless `for_ipv6_socket`, when
// they stay v4-mapped in a sockaddr_in6.
SocketAddress to_sockaddr(const Address& address, bool for_ipv6_socket = false);
// sockaddr_in and sockaddr_in6 (v4-mapped ones included) to Address; port 0 and
// :: for any other family.
Address from_sockaddr(const sockaddr* address, socklen_t length);

bool is_unspecified(const policy::IpAddress& ip);  // 0.0.0.0 or ::
bool is_ipv4_family(const Address& address);

[[noreturn]] void throw_errno(const std::string& what);

// A non-blocking, close-on-exec socket; throws naming `what`.
int open_socket(int family, int type, const std::string& what);
Address local_address(int fd);
void set_no_delay(int fd);
// Closes with a reset (SO_LINGER 0) instead of a FIN: how a failed relay tells the
// application its connection is gone.
void close_with_reset(int fd);
// The pending error of a socket (SO_ERROR), 0 when none.
int pending_error(int fd);

// Raises the soft descriptor limit to the hard one: every relayed TCP flow holds six.
void raise_descriptor_limit();

}  // namespace sluice::relay::posix
