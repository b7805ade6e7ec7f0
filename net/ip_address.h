#pragma once

// IP addresses and endpoints as every part of Sluice holds them, and their one text
// form. IPv4 is held IPv4-mapped (::ffff:a.b.c.d), so an address compares equal
// however a program spelled it (sockaddr_in or a v4-mapped sockaddr_in6) and policy
// sees the IPv4 address its rules name. Own parsers (no inet_pton): the same strict
// rules on every platform. No I/O, no logging: the providers link this.

#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace sluice::net {

// 128 bits, network order; IPv4 as ::ffff:a.b.c.d.
struct IpAddress {
  std::array<std::uint8_t, 16> bytes{};
  bool operator==(const IpAddress&) const = default;
};

// An address and a port (host order).
struct Endpoint {
  IpAddress ip;
  std::uint16_t port = 0;
  bool operator==(const Endpoint&) const = default;
};

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

// A decimal number of 1..max_digits digits, no sign, no leading zero (except "0"):
// the one strict number every address, prefix length and port text is read with.
std::optional<unsigned> parse_decimal(std::string_view text, std::size_t max_digits);

// parse_ip's address with `port`; nullopt for anything that is not an address.
std::optional<Endpoint> parse_endpoint(std::string_view ip, std::uint16_t port);

// "1.2.3.4:80" or "[::1]:80".
std::string format_endpoint(const Endpoint& endpoint);

// True for IPv4 addresses, i.e. IPv4-mapped ones (::ffff:0:0/96).
bool is_ipv4(const IpAddress& address);
IpAddress ipv4(std::uint8_t a, std::uint8_t b, std::uint8_t c, std::uint8_t d);

// 0.0.0.0 or ::.
bool is_unspecified(const IpAddress& address);
// The wildcard a socket of that family binds to: 0.0.0.0 or ::.
IpAddress unspecified(bool ipv4);
// 127.0.0.0/8 or ::1: an address only this machine answers on.
bool is_loopback(const IpAddress& address);
// 127.0.0.1 or ::1.
IpAddress loopback(bool ipv4);

}  // namespace sluice::net
