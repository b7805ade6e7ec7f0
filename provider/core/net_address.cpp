#include "provider/core/net_address.h"

#include <algorithm>
#include <cstring>

namespace sluice::provider {

namespace {

constexpr std::uint8_t kMappedPrefix[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};

}  // namespace

std::optional<NetAddress> from_sockaddr(const sockaddr* address, socklen_t length) {
  if (address == nullptr) return std::nullopt;
  NetAddress out;
  if (address->sa_family == AF_INET && length >= static_cast<socklen_t>(sizeof(sockaddr_in))) {
    sockaddr_in in;
    std::memcpy(&in, address, sizeof in);
    std::memcpy(out.bytes, &in.sin_addr, 4);
    out.port = ntohs(in.sin_port);
    return out;
  }
  if (address->sa_family == AF_INET6 && length >= static_cast<socklen_t>(sizeof(sockaddr_in6))) {
    sockaddr_in6 in6;
    std::memcpy(&in6, address, sizeof in6);
    out.port = ntohs(in6.sin6_port);
    if (std::memcmp(in6.sin6_addr.s6_addr, kMappedPrefix, sizeof kMappedPrefix) == 0) {
      std::memcpy(out.bytes, in6.sin6_addr.s6_addr + 12, 4);
    } else {
      out.ipv4 = false;
      std::memcpy(out.bytes, in6.sin6_addr.s6_addr, 16);
    }
    return out;
  }
  return std::nullopt;
}

socklen_t to_sockaddr(const NetAddress& address, int family, sockaddr_storage& out) {
  std::memset(&out, 0, sizeof out);
  if (family == AF_INET) {
    if (!address.ipv4) return 0;
    sockaddr_in in{};
    in.sin_family = AF_INET;
    in.sin_port = htons(address.port);
    std::memcpy(&in.sin_addr, address.bytes, 4);
    std::memcpy(&out, &in, sizeof in);
    return sizeof in;
  }
  if (family == AF_INET6) {
    sockaddr_in6 in6{};
    in6.sin6_family = AF_INET6;
    in6.sin6_port = htons(address.port);
    if (address.ipv4) {
      std::memcpy(in6.sin6_addr.s6_addr, kMappedPrefix, sizeof kMappedPrefix);
      std::memcpy(in6.sin6_addr.s6_addr + 12, address.bytes, 4);
    } else {
      std::memcpy(in6.sin6_addr.s6_addr, address.bytes, 16);
    }
    std::memcpy(&out, &in6, sizeof in6);
    return sizeof in6;
  }
  return 0;
}

void copy_out(const sockaddr_storage& from, socklen_t from_length, sockaddr* to, socklen_t* to_length) {
  if (to == nullptr || to_length == nullptr) return;
  std::memcpy(to, &from, std::min(from_length, *to_length));
  *to_length = from_length;
}

std::string ip_text(const NetAddress& address) {
  char text[INET6_ADDRSTRLEN] = {};
  ::inet_ntop(address.ipv4 ? AF_INET : AF_INET6, address.bytes, text, sizeof text);
  return text;
}

std::optional<NetAddress> parse_address(const std::string& ip, std::uint16_t port) {
  NetAddress out;
  out.port = port;
  if (::inet_pton(AF_INET, ip.c_str(), out.bytes) == 1) return out;
  std::uint8_t v6[16];
  if (::inet_pton(AF_INET6, ip.c_str(), v6) != 1) return std::nullopt;
  sockaddr_in6 in6{};
  in6.sin6_family = AF_INET6;
  in6.sin6_port = htons(port);
  std::memcpy(in6.sin6_addr.s6_addr, v6, 16);
  return from_sockaddr(reinterpret_cast<const sockaddr*>(&in6), sizeof in6);
}

bool is_unspecified(const NetAddress& address) {
  const int size = address.ipv4 ? 4 : 16;
  return std::all_of(address.bytes, address.bytes + size, [](std::uint8_t b) { return b == 0; });
}

bool is_loopback(const NetAddress& address) {
  if (address.ipv4) return address.bytes[0] == 127;
  static constexpr std::uint8_t kIpv6Loopback[16] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1};
  return std::memcmp(address.bytes, kIpv6Loopback, sizeof kIpv6Loopback) == 0;
}

}  // namespace sluice::provider
