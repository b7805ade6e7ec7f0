#include "tests/support/test_socket_address.h"

namespace sluice::test {

socklen_t to_sockaddr(const Endpoint& endpoint, sockaddr_storage& out) {
  out = sockaddr_storage{};
  auto* in = reinterpret_cast<sockaddr_in*>(&out);
  if (::inet_pton(AF_INET, endpoint.ip.c_str(), &in->sin_addr) == 1) {
    in->sin_family = AF_INET;
    in->sin_port = htons(endpoint.port);
    return sizeof(sockaddr_in);
  }
  auto* in6 = reinterpret_cast<sockaddr_in6*>(&out);
  if (::inet_pton(AF_INET6, endpoint.ip.c_str(), &in6->sin6_addr) == 1) {
    in6->sin6_family = AF_INET6;
    in6->sin6_port = htons(endpoint.port);
    return sizeof(sockaddr_in6);
  }
  return 0;
}

Endpoint from_sockaddr(const sockaddr_storage& address) {
  char text[INET6_ADDRSTRLEN] = {};
  if (address.ss_family == AF_INET) {
    const auto* in = reinterpret_cast<const sockaddr_in*>(&address);
    ::inet_ntop(AF_INET, &in->sin_addr, text, sizeof text);
    return Endpoint{text, ntohs(in->sin_port)};
  }
  const auto* in6 = reinterpret_cast<const sockaddr_in6*>(&address);
  ::inet_ntop(AF_INET6, &in6->sin6_addr, text, sizeof text);
  return Endpoint{text, ntohs(in6->sin6_port)};
}

}  // namespace sluice::test
