#pragma once

// Whether a client may trust a control socket it found at a path: whoever could have
// put that socket there could answer in the service's place (tell every program
// where to relay its traffic, or read sluicectl's requests). On POSIX the socket
// must belong to root or to the caller, and so must its directory, which nobody
// else may write to, unless it is sticky (/tmp: then only the socket's owner, root
// or the directory's owner can remove or replace the socket). Used by sluicectl
// (posix_transport.cpp) and the preload provider, both before connecting and once
// connected (the socket then exists).

#include <cstdint>
#include <optional>
#include <string>

namespace sluice::transport {

// What stat(2) says of a path: the facts the decision needs, and nothing of the OS.
struct PathFacts {
  bool exists = false;
  bool is_directory = false;
  bool is_socket = false;
  std::uint32_t owner = 0;  // uid
  std::uint32_t mode = 0;   // permission bits, with the sticky bit (01000)
};

// nullopt when `caller` may use the socket `path` (its directory and socket as
// given; a socket that does not exist yet leaves only the directory to judge);
// otherwise why not, in words for an administrator.
std::optional<std::string> endpoint_distrust(const std::string& path, const PathFacts& directory, const PathFacts& socket,
                                             std::uint32_t caller);

// The directory part of a socket path ("/" and "." included).
std::string endpoint_directory(const std::string& path);

// The same for the path as it is now on this machine, for this process's effective
// uid (posix_endpoint_trust.cpp: stat of the socket and of its directory).
std::optional<std::string> control_socket_distrust(const std::string& path);

}  // namespace sluice::transport
