#pragma once

// Text forms of address prefixes and port ranges, and the containment tests the
// matcher needs. Addresses themselves, and their text, are net/ip_address.h's.

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "net/ip_address.h"
#include "service/policy/rule.h"

namespace sluice::policy {

// Bit `index` (0 = most significant bit of byte 0) of the 128-bit form.
inline bool address_bit(const net::IpAddress& address, int index) {
  return ((address.bytes[static_cast<std::size_t>(index >> 3)] >> (7 - (index & 7))) & 1u) != 0;
}

// `address` with every bit from `prefix_length` on cleared (prefix_length 0..128).
net::IpAddress mask_address(const net::IpAddress& address, int prefix_length);

// "10.0.0.0/8", "::1/128", "2001:db8::/32", or a bare address (a host route: /32 for
// IPv4, /128 for IPv6). IPv4 prefix lengths are 0..32 and stored +96 (the mapped
// form), IPv6 ones 0..128; no signs or leading zeros. Host bits beyond the prefix are
// cleared ("10.1.2.3/8" is 10.0.0.0/8). An IPv6 "::/0" is every address, IPv4 ones
// included; an IPv4 "0.0.0.0/0" is every IPv4 address only.
std::optional<Cidr> parse_cidr(std::string_view text);

// "10.0.0.0/8" for IPv4 prefixes (IPv4-mapped network, length >= 96, shown minus 96),
// else "2001:db8::/32". Always with the length, host routes included.
std::string format_cidr(const Cidr& cidr);

// True when the first `cidr.prefix_length` bits of `address` equal the network's.
bool contains(const Cidr& cidr, const net::IpAddress& address);

// "80" or "8000-8100": ports 1..65535 (0 is not a destination), first <= last,
// decimal without signs, blanks or leading zeros.
std::optional<PortRange> parse_port_range(std::string_view text);

// "80" when first == last, else "8000-8100".
std::string format_port_range(const PortRange& range);

inline bool contains(const PortRange& range, std::uint16_t port) {
  return port >= range.first && port <= range.last;
}

}  // namespace sluice::policy
