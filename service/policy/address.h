#pragma once

// Text forms of addresses, prefixes and port ranges, and the containment tests the
// matcher needs. Own parsers (no inet_pton): the same strict rules on every platform.

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "service/policy/rule.h"

namespace sluice::policy {

// "192.0.2.1" (dotted quad, strict: exactly four decimal parts 0-255, no signs, blanks
// or leading zeros such as "01") becomes the IPv4-mapped ::ffff:192.0.2.1.
// IPv6 in the RFC 4291 text forms: eight groups of 1-4 hex digits (either case), one
// "::" for one or more zero groups ("::", "::1", "fe80::1"), and a trailing dotted
// quad ("::ffff:1.2.3.4", "64:ff9b::192.0.2.1"). No zone ids ("%eth0"), no brackets.
std::optional<IpAddress> parse_ip(std::string_view text);

// IPv4-mapped addresses as a dotted quad ("1.2.3.4"); all others in the RFC 5952
// canonical form: lowercase hex, no leading zeros, the longest run (the first of
// equal runs) of two or more zero groups as "::".
std::string format_ip(const IpAddress& address);

// True for IPv4 addresses, i.e. IPv4-mapped ones (::ffff:0:0/96).
bool is_ipv4(const IpAddress& address);
IpAddress ipv4(std::uint8_t a, std::uint8_t b, std::uint8_t c, std::uint8_t d);

// Bit `index` (0 = most significant bit of byte 0) of the 128-bit form.
inline bool address_bit(const IpAddress& address, int index) {
  return ((address.bytes[static_cast<std::size_t>(index >> 3)] >> (7 - (index & 7))) & 1u) != 0;
}

// `address` with every bit from `prefix_length` on cleared (prefix_length 0..128).
IpAddress mask_address(const IpAddress& address, int prefix_length);

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
bool contains(const Cidr& cidr, const IpAddress& address);

// "80" or "8000-8100": ports 1..65535 (0 is not a destination), first <= last,
// decimal without signs, blanks or leading zeros.
std::optional<PortRange> parse_port_range(std::string_view text);

// "80" when first == last, else "8000-8100".
std::string format_port_range(const PortRange& range);

inline bool contains(const PortRange& range, std::uint16_t port) {
  return port >= range.first && port <= range.last;
}

}  // namespace sluice::policy
