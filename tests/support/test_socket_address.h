#pragma once

// Test endpoints (address text and port) to and from the system's sockaddr, for
// both platforms' test sockets. The socket headers come from net/socket_api.h.

#include "net/socket_api.h"  // generated: net/posix_socket_api.h or net/win_socket_api.h

#include "tests/support/test_socket.h"

namespace sluice::test {

// Text and port to a sockaddr; length 0 when the text is no address.
socklen_t to_sockaddr(const Endpoint& endpoint, sockaddr_storage& out);
// An AF_INET or AF_INET6 sockaddr to text and port.
Endpoint from_sockaddr(const sockaddr_storage& address);

}  // namespace sluice::test
