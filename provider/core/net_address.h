#pragma once

// Socket addresses as the provider compares and rewrites them. A v4-mapped IPv6
// address (::ffff:a.b.c.d) is folded to IPv4, so one destination compares equal
// however a program spelled it, and policy sees the IPv4 address its rules name.

#include "socket_api.h"  // common/platform/{posix,win}/, picked by CMake

#include <cstdint>
#include <optional>
#include <string>

namespace sluice::provider {

struct NetAddress {
  bool ipv4 = true;
  std::uint8_t bytes[16] = {};  // an IPv4 address in the first four
  std::uint16_t port = 0;       // host order
  bool operator==(const NetAddress&) const = default;
};

// nullopt unless `address` is AF_INET or AF_INET6 and `length` covers it.
std::optional<NetAddress> from_sockaddr(const sockaddr* address, socklen_t length);

// `address` as a sockaddr of `family`: an IPv4 address for an AF_INET6 socket becomes
// v4-mapped. Returns the length written, or 0 when it cannot be said in that family
// (IPv6 for an AF_INET socket).
socklen_t to_sockaddr(const NetAddress& address, int family, sockaddr_storage& out);

// Copies into a caller's (address, length) pair the way the kernel does: at most
// *to_length bytes, and *to_length set to the full size.
void copy_out(const sockaddr_storage& from, socklen_t from_length, sockaddr* to, socklen_t* to_length);

// "192.0.2.1", "2001:db8::1" (no port): the form flow.register takes.
std::string ip_text(const NetAddress& address);
// The inverse, with a port; nullopt for anything that is not an address.
std::optional<NetAddress> parse_address(const std::string& ip, std::uint16_t port);

bool is_unspecified(const NetAddress& address);
// 127.0.0.0/8 (v4-mapped included) or ::1: an address only this machine answers on.
bool is_loopback(const NetAddress& address);

}  // namespace sluice::provider
