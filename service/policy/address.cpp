#include "service/policy/address.h"

namespace sluice::policy {

using net::parse_decimal;

net::IpAddress mask_address(const net::IpAddress& address, int prefix_length) {
  net::IpAddress masked = address;
  for (int i = 0; i < 16; ++i) {
    const int keep = prefix_length - 8 * i;  // bits of this byte inside the prefix
    auto& byte = masked.bytes[static_cast<std::size_t>(i)];
    if (keep <= 0) {
      byte = 0;
    } else if (keep < 8) {
      byte = static_cast<std::uint8_t>(byte & (0xff << (8 - keep)));
    }
  }
  return masked;
}

std::optional<Cidr> parse_cidr(std::string_view text) {
  const std::size_t slash = text.find('/');
  const std::string_view address_text = text.substr(0, slash);
  const std::optional<net::IpAddress> address = net::parse_ip(address_text);
  if (!address) return std::nullopt;
  const bool v4 = address_text.find(':') == std::string_view::npos;
  int length = 128;
  if (slash != std::string_view::npos) {
    const std::optional<unsigned> value = parse_decimal(text.substr(slash + 1), 3);
    if (!value || *value > (v4 ? 32u : 128u)) return std::nullopt;
    length = static_cast<int>(*value) + (v4 ? 96 : 0);
  }
  return Cidr{mask_address(*address, length), length};
}

std::string format_cidr(const Cidr& cidr) {
  if (net::is_ipv4(cidr.network) && cidr.prefix_length >= 96) {
    return net::format_ip(cidr.network) + '/' + std::to_string(cidr.prefix_length - 96);
  }
  return net::format_ip(cidr.network) + '/' + std::to_string(cidr.prefix_length);
}

bool contains(const Cidr& cidr, const net::IpAddress& address) {
  const int length = cidr.prefix_length;
  const int full = length >> 3;
  for (int i = 0; i < full; ++i) {
    if (cidr.network.bytes[static_cast<std::size_t>(i)] != address.bytes[static_cast<std::size_t>(i)]) return false;
  }
  const int rest = length & 7;
  if (rest == 0) return true;
  const unsigned mask = (0xffu << (8 - rest)) & 0xffu;
  return ((cidr.network.bytes[static_cast<std::size_t>(full)] ^ address.bytes[static_cast<std::size_t>(full)]) & mask) == 0;
}

std::optional<PortRange> parse_port_range(std::string_view text) {
  const std::size_t dash = text.find('-');
  const std::optional<unsigned> first = parse_decimal(text.substr(0, dash), 5);
  if (!first || *first == 0 || *first > 65535) return std::nullopt;
  unsigned last = *first;
  if (dash != std::string_view::npos) {
    const std::optional<unsigned> value = parse_decimal(text.substr(dash + 1), 5);
    if (!value || *value == 0 || *value > 65535 || *value < *first) return std::nullopt;
    last = *value;
  }
  return PortRange{static_cast<std::uint16_t>(*first), static_cast<std::uint16_t>(last)};
}

std::string format_port_range(const PortRange& range) {
  if (range.first == range.last) return std::to_string(range.first);
  return std::to_string(range.first) + '-' + std::to_string(range.last);
}

}  // namespace sluice::policy
