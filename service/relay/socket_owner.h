#pragma once

// Which process owns a socket, as the kernel tells it, never as a caller claims it.
// flow.register proves that the local address a program names is a socket of that
// program (so nobody can register another user's port and be handed its connection),
// and the relay checks, on accept, that the connecting socket is that same socket
// before it connects anywhere. One implementation per platform, picked by CMake:
// posix_socket_owner.cpp (sock_diag netlink and /proc/PID/fd), win_socket_owner.cpp
// (GetExtendedTcpTable / GetExtendedUdpTable owning pid).

#include <cstdint>
#include <functional>
#include <optional>
#include <stdexcept>
#include <string>

#include "service/relay/flow.h"

namespace sluice::relay {

// A claim that could not be verified; what() says what, for the caller to read.
class OwnershipError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// Proves that process `pid` holds a `protocol` socket bound to exactly `local`, in
// local's family (a wildcard claim only for a socket bound to the wildcard), and
// returns that socket's identity for the relay to check connections against.
// `still_same_process` is asked after the process's descriptors were read, so a pid
// reused meanwhile by another program is not taken for the caller. Throws
// OwnershipError naming what could not be verified.
// `process_handle` is the caller's pinned process (protocol::Caller; -1 for none):
// Linux reads the process's sockets through it where the kernel allows.
template <class StillSame>
SocketIdentity prove_bound_socket(policy::Protocol protocol, const net::Endpoint& local, std::int64_t pid, std::intptr_t process_handle,
                                  StillSame still_same_process);

// The non-template part of the above: the same without the re-check.
SocketIdentity find_owned_bound_socket(policy::Protocol protocol, const net::Endpoint& local, std::int64_t pid,
                                       std::intptr_t process_handle = -1);

// The identity of the connected TCP socket whose own address is `local` and whose
// peer is `remote` (the client side of a connection the relay accepted, where
// `local` is the accepted peer and `remote` the listener); nullopt when the system
// knows no such socket.
std::optional<SocketIdentity> connected_socket(const net::Endpoint& local, const net::Endpoint& remote);

// Whether this system names the owner of a socket at all. Linux: always. Windows:
// probed once, on a fresh loopback connection of this process's own, as the relay
// sees one on accept (Wine 8 gives owning pid 0 for a socket until its process has
// done I/O on it: only wineserver holds it before). Where it does not, a claim stands for the caller
// and the relay matches connections by address alone: sluiced logs that at start.
bool system_reports_socket_owners();

// True when `connecting` is the socket a registration proved: Linux, the same socket
// (inode) of the same uid; Windows, the same owning process. Strict: where the system
// names no owners, the caller decides (SocketTables::reports_owners).
bool same_socket(const SocketIdentity& registered, const SocketIdentity& connecting);

// The two table reads the relay makes on accept, as an OS-boundary seam (in the manner
// of Envoy's OsSysCalls): production always uses the defaults, the real reads above.
// A test injects rows the system cannot be made to show at accept time: Wine lists a
// socket's owning pid only once the owning process holds its Unix descriptor, which a
// socket that has only connected does not (docs/attacksurface.md, "Wine").
struct SocketTables {
  std::function<bool()> reports_owners = system_reports_socket_owners;
  std::function<std::optional<SocketIdentity>(const net::Endpoint& local, const net::Endpoint& remote)> connected = connected_socket;
};

template <class StillSame>
SocketIdentity prove_bound_socket(policy::Protocol protocol, const net::Endpoint& local, std::int64_t pid, std::intptr_t process_handle,
                                  StillSame still_same_process) {
  SocketIdentity found = find_owned_bound_socket(protocol, local, pid, process_handle);
  if (!still_same_process()) {
    throw OwnershipError("the calling process (pid " + std::to_string(pid) + ") ended while its sockets were read");
  }
  return found;
}

}  // namespace sluice::relay
