// net/socket_address: endpoints to and from sockaddr, as the relay, the metrics
// server and both providers convert them.
#include "net/socket_address.h"

#include <gtest/gtest.h>

#include <cstring>

using namespace sluice::net;

namespace {

sockaddr_in6 v6(const char* text, std::uint16_t port) {
  sockaddr_in6 a{};
  a.sin6_family = AF_INET6;
  a.sin6_port = htons(port);
  inet_pton(AF_INET6, text, &a.sin6_addr);
  return a;
}

sockaddr_in v4(const char* text, std::uint16_t port) {
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(port);
  inet_pton(AF_INET, text, &a.sin_addr);
  return a;
}

}  // namespace

TEST(NetSocketAddress, V4MappedFoldsToTheIpv4Address) {
  auto mapped = v6("::ffff:192.0.2.7", 80);
  auto plain = v4("192.0.2.7", 80);
  auto a = from_sockaddr(reinterpret_cast<sockaddr*>(&mapped), sizeof mapped);
  auto b = from_sockaddr(reinterpret_cast<sockaddr*>(&plain), sizeof plain);
  ASSERT_TRUE(a && b);
  EXPECT_EQ(*a, *b);
  EXPECT_TRUE(is_ipv4(a->ip));
  EXPECT_EQ(format_ip(a->ip), "192.0.2.7");
}

TEST(NetSocketAddress, Ipv6KeepsItsBytesAndPort) {
  auto a6 = v6("2001:db8::1", 443);
  auto a = from_sockaddr(reinterpret_cast<sockaddr*>(&a6), sizeof a6);
  ASSERT_TRUE(a);
  EXPECT_FALSE(is_ipv4(a->ip));
  EXPECT_EQ(a->port, 443);
  EXPECT_EQ(format_ip(a->ip), "2001:db8::1");
}

TEST(NetSocketAddress, ShortLengthsAndOtherFamiliesAreNotAddresses) {
  auto a4 = v4("127.0.0.1", 1);
  EXPECT_FALSE(from_sockaddr(reinterpret_cast<sockaddr*>(&a4), sizeof a4 - 1));
  sockaddr unix_address{};
  unix_address.sa_family = AF_UNIX;
  EXPECT_FALSE(from_sockaddr(&unix_address, sizeof unix_address));
  EXPECT_FALSE(from_sockaddr(nullptr, 0));
}

TEST(NetSocketAddress, Ipv4ForAnIpv6SocketIsWrittenV4Mapped) {
  auto address = parse_endpoint("127.0.0.1", 9000);
  ASSERT_TRUE(address);
  sockaddr_storage out;
  ASSERT_EQ(to_sockaddr(*address, AF_INET6, out), sizeof(sockaddr_in6));
  auto back = from_sockaddr(reinterpret_cast<sockaddr*>(&out), sizeof(sockaddr_in6));
  ASSERT_TRUE(back);
  EXPECT_EQ(*back, *address);
  char text[INET6_ADDRSTRLEN];
  inet_ntop(AF_INET6, &reinterpret_cast<sockaddr_in6*>(&out)->sin6_addr, text, sizeof text);
  EXPECT_STREQ(text, "::ffff:127.0.0.1");
}

TEST(NetSocketAddress, Ipv6CannotBeWrittenForAnIpv4Socket) {
  auto address = parse_endpoint("::1", 53);
  ASSERT_TRUE(address);
  sockaddr_storage out;
  EXPECT_EQ(to_sockaddr(*address, AF_INET, out), 0u);
}

TEST(NetSocketAddress, CopyOutTruncatesLikeTheKernelAndReportsTheFullLength) {
  auto address = parse_endpoint("::1", 53);
  sockaddr_storage full;
  const socklen_t length = to_sockaddr(*address, AF_INET6, full);
  char small[8] = {};
  socklen_t small_length = sizeof small;
  copy_out(full, length, reinterpret_cast<sockaddr*>(small), &small_length);
  EXPECT_EQ(small_length, length);
  EXPECT_EQ(std::memcmp(small, &full, sizeof small), 0);
}

TEST(NetSocketAddress, ParseRejectsWhatIsNotAnAddress) {
  EXPECT_FALSE(parse_endpoint("localhost", 1));
  EXPECT_FALSE(parse_endpoint("", 1));
  EXPECT_TRUE(is_unspecified(parse_endpoint("0.0.0.0", 0)->ip));
  EXPECT_TRUE(is_unspecified(parse_endpoint("::", 0)->ip));
  EXPECT_FALSE(is_unspecified(parse_endpoint("::1", 0)->ip));
}

TEST(NetSocketAddress, NativeFamilyRoundTripsIpv4AndIpv6) {
  for (const char* text : {"192.0.2.7", "2001:db8::7"}) {
    const auto endpoint = parse_endpoint(text, 8080);
    ASSERT_TRUE(endpoint) << text;
    const SocketAddress native = to_sockaddr(*endpoint);
    EXPECT_EQ(native.family(), is_ipv4(endpoint->ip) ? AF_INET : AF_INET6) << text;
    EXPECT_EQ(native.length, static_cast<socklen_t>(is_ipv4(endpoint->ip) ? sizeof(sockaddr_in) : sizeof(sockaddr_in6)));
    EXPECT_EQ(from_sockaddr(native.get(), native.length), endpoint) << text;
  }
}
