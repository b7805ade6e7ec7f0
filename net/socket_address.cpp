#include "net/socket_address.h"

#include <algorithm>
#include <cstring>

namespace sluice::net {

SocketAddress to_sockaddr(const Endpoint& endpoint) {
  SocketAddress out;
  out.length = to_sockaddr(endpoint, is_ipv4(endpoint.ip) ? AF_INET : AF_INET6, out.storage);
  return out;
}

socklen_t to_sockaddr(const Endpoint& endpoint, int family, sockaddr_storage& out) {
  std::memset(&out, 0, sizeof out);
  if (family == AF_INET) {
    if (!is_ipv4(endpoint.ip)) return 0;
    sockaddr_in in{};
    in.sin_family = AF_INET;
    in.sin_port = htons(endpoint.port);
    std::memcpy(&in.sin_addr, endpoint.ip.bytes.data() + 12, 4);
    std::memcpy(&out, &in, sizeof in);
    return sizeof in;
  }
  if (family == AF_INET6) {
    // IPv4 is held v4-mapped already: the 16 bytes are the sockaddr_in6's either way.
    sockaddr_in6 in6{};
    in6.sin6_family = AF_INET6;
    in6.sin6_port = htons(endpoint.port);
    std::memcpy(in6.sin6_addr.s6_addr, endpoint.ip.bytes.data(), 16);
    std::memcpy(&out, &in6, sizeof in6);
    return sizeof in6;
  }
  return 0;
}

std::optional<Endpoint> from_sockaddr(const sockaddr* address, socklen_t length) {
  if (address == nullptr) return std::nullopt;
  Endpoint out;
  if (address->sa_family == AF_INET && length >= static_cast<socklen_t>(sizeof(sockaddr_in))) {
    // Copied out rather than cast: a caller's buffer need not be aligned for it.
    sockaddr_in in;
    std::memcpy(&in, address, sizeof in);
    const auto* b = reinterpret_cast<const std::uint8_t*>(&in.sin_addr);
    out.ip = ipv4(b[0], b[1], b[2], b[3]);
    out.port = ntohs(in.sin_port);
    return out;
  }
  if (address->sa_family == AF_INET6 && length >= static_cast<socklen_t>(sizeof(sockaddr_in6))) {
    sockaddr_in6 in6;
    std::memcpy(&in6, address, sizeof in6);
    std::memcpy(out.ip.bytes.data(), in6.sin6_addr.s6_addr, 16);
    out.port = ntohs(in6.sin6_port);
    return out;
  }
  return std::nullopt;
}

void copy_out(const sockaddr_storage& from, socklen_t from_length, sockaddr* to, socklen_t* to_length) {
  if (to == nullptr || to_length == nullptr) return;
  std::memcpy(to, &from, std::min(from_length, *to_length));
  *to_length = from_length;
}

}  // namespace sluice::net
