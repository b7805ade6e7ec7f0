#include "net/ip_address.h"

#include <cstddef>

namespace sluice::net {
namespace {

bool is_digit(char c) { return c >= '0' && c <= '9'; }

int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// Strict dotted quad into out[0..3].
bool parse_ipv4_parts(std::string_view text, std::uint8_t* out) {
  for (int part = 0; part < 4; ++part) {
    const std::size_t dot = text.find('.');
    const std::string_view piece = part < 3 ? text.substr(0, dot) : text;
    if (part < 3 && dot == std::string_view::npos) return false;
    const std::optional<unsigned> value = parse_decimal(piece, 3);
    if (!value || *value > 255) return false;
    out[part] = static_cast<std::uint8_t>(*value);
    if (part < 3) text.remove_prefix(dot + 1);
  }
  return true;
}

std::optional<IpAddress> parse_ipv6(std::string_view s) {
  std::array<std::uint16_t, 8> groups{};
  std::array<std::uint8_t, 4> tail{};
  int count = 0;          // groups written
  int gap = -1;           // index in `groups` where "::" stands
  bool has_tail = false;  // a trailing dotted quad (two groups)
  std::size_t i = 0;
  if (s.size() >= 2 && s[0] == ':' && s[1] == ':') {
    gap = 0;
    i = 2;
    if (i == s.size()) return IpAddress{};
  } else if (!s.empty() && s[0] == ':') {
    return std::nullopt;
  }
  while (true) {
    const std::size_t start = i;
    unsigned value = 0;
    while (i < s.size() && hex_value(s[i]) >= 0) {
      if (i - start < 4) value = (value << 4) | static_cast<unsigned>(hex_value(s[i]));
      ++i;
    }
    if (i < s.size() && s[i] == '.') {
      // The rest is an IPv4 dotted quad taking the last two groups.
      if (count > 6 || !parse_ipv4_parts(s.substr(start), tail.data())) return std::nullopt;
      has_tail = true;
      count += 2;
      break;
    }
    const std::size_t digits = i - start;
    if (digits == 0 || digits > 4) return std::nullopt;
    if (count == 8) return std::nullopt;
    groups[static_cast<std::size_t>(count++)] = static_cast<std::uint16_t>(value);
    if (i == s.size()) break;
    if (s[i] != ':') return std::nullopt;
    ++i;
    if (i < s.size() && s[i] == ':') {
      if (gap >= 0) return std::nullopt;  // a second "::"
      gap = count;
      ++i;
      if (i == s.size()) break;
    } else if (i == s.size()) {
      return std::nullopt;  // a trailing single ':'
    }
  }
  if (has_tail) {
    groups[static_cast<std::size_t>(count - 2)] = static_cast<std::uint16_t>(tail[0] << 8 | tail[1]);
    groups[static_cast<std::size_t>(count - 1)] = static_cast<std::uint16_t>(tail[2] << 8 | tail[3]);
  }
  if (gap < 0) {
    if (count != 8) return std::nullopt;
  } else {
    if (count > 7) return std::nullopt;  // "::" stands for at least one zero group
    const int moved = count - gap;
    for (int k = 0; k < moved; ++k) {
      groups[static_cast<std::size_t>(7 - k)] = groups[static_cast<std::size_t>(count - 1 - k)];
    }
    for (int k = gap; k < 8 - moved; ++k) groups[static_cast<std::size_t>(k)] = 0;
  }
  IpAddress address;
  for (std::size_t g = 0; g < 8; ++g) {
    address.bytes[2 * g] = static_cast<std::uint8_t>(groups[g] >> 8);
    address.bytes[2 * g + 1] = static_cast<std::uint8_t>(groups[g] & 0xff);
  }
  return address;
}

const char kHex[] = "0123456789abcdef";

}  // namespace

std::optional<unsigned> parse_decimal(std::string_view text, std::size_t max_digits) {
  if (text.empty() || text.size() > max_digits) return std::nullopt;
  if (text.size() > 1 && text[0] == '0') return std::nullopt;
  unsigned value = 0;
  for (char c : text) {
    if (!is_digit(c)) return std::nullopt;
    value = value * 10 + static_cast<unsigned>(c - '0');
  }
  return value;
}

std::optional<IpAddress> parse_ip(std::string_view text) {
  if (text.find(':') == std::string_view::npos) {
    std::array<std::uint8_t, 4> parts{};
    if (!parse_ipv4_parts(text, parts.data())) return std::nullopt;
    return ipv4(parts[0], parts[1], parts[2], parts[3]);
  }
  return parse_ipv6(text);
}

bool is_ipv4(const IpAddress& address) {
  for (std::size_t i = 0; i < 10; ++i) {
    if (address.bytes[i] != 0) return false;
  }
  return address.bytes[10] == 0xff && address.bytes[11] == 0xff;
}

IpAddress ipv4(std::uint8_t a, std::uint8_t b, std::uint8_t c, std::uint8_t d) {
  IpAddress address;
  address.bytes[10] = 0xff;
  address.bytes[11] = 0xff;
  address.bytes[12] = a;
  address.bytes[13] = b;
  address.bytes[14] = c;
  address.bytes[15] = d;
  return address;
}

std::string format_ip(const IpAddress& address) {
  const auto& b = address.bytes;
  if (is_ipv4(address)) {
    return std::to_string(b[12]) + '.' + std::to_string(b[13]) + '.' + std::to_string(b[14]) + '.' +
           std::to_string(b[15]);
  }
  std::array<unsigned, 8> groups{};
  for (std::size_t g = 0; g < 8; ++g) groups[g] = static_cast<unsigned>(b[2 * g] << 8 | b[2 * g + 1]);
  // The longest run of at least two zero groups; the first one on a tie.
  int best_start = -1, best_length = 1;
  for (int g = 0; g < 8;) {
    if (groups[static_cast<std::size_t>(g)] != 0) {
      ++g;
      continue;
    }
    int end = g;
    while (end < 8 && groups[static_cast<std::size_t>(end)] == 0) ++end;
    if (end - g > best_length) {
      best_start = g;
      best_length = end - g;
    }
    g = end;
  }
  std::string out;
  out.reserve(39);
  for (int g = 0; g < 8; ++g) {
    if (g == best_start) {
      out += "::";
      g += best_length - 1;
      continue;
    }
    if (!out.empty() && out.back() != ':') out += ':';
    const unsigned v = groups[static_cast<std::size_t>(g)];
    bool started = false;
    for (int shift = 12; shift >= 0; shift -= 4) {
      const unsigned nibble = (v >> shift) & 0xf;
      if (nibble != 0 || started || shift == 0) {
        out += kHex[nibble];
        started = true;
      }
    }
  }
  return out;
}

std::optional<Endpoint> parse_endpoint(std::string_view ip, std::uint16_t port) {
  const std::optional<IpAddress> address = parse_ip(ip);
  if (!address) return std::nullopt;
  return Endpoint{*address, port};
}

std::string format_endpoint(const Endpoint& endpoint) {
  const std::string ip = format_ip(endpoint.ip);
  if (is_ipv4(endpoint.ip)) return ip + ":" + std::to_string(endpoint.port);
  return "[" + ip + "]:" + std::to_string(endpoint.port);
}

bool is_unspecified(const IpAddress& address) { return address == unspecified(false) || address == unspecified(true); }

IpAddress unspecified(bool ipv4_address) { return ipv4_address ? ipv4(0, 0, 0, 0) : IpAddress{}; }

bool is_loopback(const IpAddress& address) {
  if (is_ipv4(address)) return address.bytes[12] == 127;
  return address == loopback(false);
}

IpAddress loopback(bool ipv4_address) {
  if (ipv4_address) return ipv4(127, 0, 0, 1);
  IpAddress one;
  one.bytes[15] = 1;
  return one;
}

}  // namespace sluice::net
