#include "service/relay/socket_address.h"

#include <cstring>

#include "service/policy/address.h"

namespace sluice::relay {

SocketAddress to_sockaddr(const Address& address) {
  SocketAddress out;
  if (policy::is_ipv4(address.ip)) {
    auto* in = reinterpret_cast<sockaddr_in*>(&out.storage);
    in->sin_family = AF_INET;
    in->sin_port = htons(address.port);
    std::memcpy(&in->sin_addr, address.ip.bytes.data() + 12, 4);
    out.length = sizeof(sockaddr_in);
  } else {
    auto* in6 = reinterpret_cast<sockaddr_in6*>(&out.storage);
    in6->sin6_family = AF_INET6;
    in6->sin6_port = htons(address.port);
    std::memcpy(&in6->sin6_addr, address.ip.bytes.data(), 16);
    out.length = sizeof(sockaddr_in6);
  }
  return out;
}

Address from_sockaddr(const sockaddr* address, socklen_t length) {
  Address out;
  if (address->sa_family == AF_INET && length >= static_cast<socklen_t>(sizeof(sockaddr_in))) {
    const auto* in = reinterpret_cast<const sockaddr_in*>(address);
    const auto* b = reinterpret_cast<const std::uint8_t*>(&in->sin_addr);
    out.ip = policy::ipv4(b[0], b[1], b[2], b[3]);
    out.port = ntohs(in->sin_port);
  } else if (address->sa_family == AF_INET6 && length >= static_cast<socklen_t>(sizeof(sockaddr_in6))) {
    const auto* in6 = reinterpret_cast<const sockaddr_in6*>(address);
    std::memcpy(out.ip.bytes.data(), &in6->sin6_addr, 16);
    out.port = ntohs(in6->sin6_port);
  }
  return out;
}

bool is_unspecified(const policy::IpAddress& ip) { return ip == policy::IpAddress{} || ip == policy::ipv4(0, 0, 0, 0); }

bool is_ipv4_family(const Address& address) { return policy::is_ipv4(address.ip); }

}  // namespace sluice::relay
