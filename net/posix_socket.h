#pragma once

// Socket plumbing for POSIX: the few socket options the relay engine sets, and
// errno turned into std::system_error once, here, at the system-call boundary.
// Address conversions are socket_address.h's.

#include <netinet/in.h>
#include <sys/socket.h>

#include <string>

#include "net/socket_address.h"

namespace sluice::net::posix {

[[noreturn]] void throw_errno(const std::string& what);

// A non-blocking, close-on-exec socket; throws naming `what`.
int open_socket(int family, int type, const std::string& what);
Endpoint local_address(int fd);
void set_no_delay(int fd);
// With `abortive`, any close of fd sends a reset (SO_LINGER 0) instead of a FIN,
// including the kernel's close when the process dies; without, closes are orderly.
void set_abortive_close(int fd, bool abortive);
// Closes with a reset instead of a FIN: how a failed relay tells the application its
// connection is gone.
void close_with_reset(int fd);
// The pending error of a socket (SO_ERROR), 0 when none.
int pending_error(int fd);

// Raises the soft descriptor limit to the hard one: every relayed TCP flow holds six.
void raise_descriptor_limit();

}  // namespace sluice::net::posix
