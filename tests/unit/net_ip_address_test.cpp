// net/ip_address: the one text form of addresses (strict parse, canonical format).
#include "net/ip_address.h"

#include <gtest/gtest.h>

#include <random>
#include <string>
#include <utility>
#include <vector>

namespace sluice::net {
namespace {

IpAddress v6(std::initializer_list<std::uint16_t> groups) {
  IpAddress a;
  std::size_t i = 0;
  for (std::uint16_t g : groups) {
    a.bytes[i++] = static_cast<std::uint8_t>(g >> 8);
    a.bytes[i++] = static_cast<std::uint8_t>(g & 0xff);
  }
  return a;
}

IpAddress ip(const std::string& text) {
  const auto parsed = parse_ip(text);
  EXPECT_TRUE(parsed.has_value()) << text;
  return parsed.value_or(IpAddress{});
}

TEST(NetIpAddress, ParsesIpv4AsMapped) {
  EXPECT_EQ(ip("0.0.0.0"), ipv4(0, 0, 0, 0));
  EXPECT_EQ(ip("255.255.255.255"), ipv4(255, 255, 255, 255));
  EXPECT_EQ(ip("192.168.1.20"), ipv4(192, 168, 1, 20));
  EXPECT_EQ(ip("10.0.0.1"), v6({0, 0, 0, 0, 0, 0xffff, 0x0a00, 0x0001}));
  EXPECT_TRUE(is_ipv4(ip("1.2.3.4")));
  EXPECT_FALSE(is_ipv4(ip("::1")));
  EXPECT_FALSE(is_ipv4(ip("::")));
  EXPECT_FALSE(is_ipv4(ip("::fffe:1.2.3.4")));
  EXPECT_FALSE(is_ipv4(ip("1::ffff:1.2.3.4")));
}

TEST(NetIpAddress, ParsesIpv6TextForms) {
  const std::vector<std::pair<std::string, IpAddress>> cases = {
      {"::", IpAddress{}},
      {"::1", v6({0, 0, 0, 0, 0, 0, 0, 1})},
      {"1::", v6({1, 0, 0, 0, 0, 0, 0, 0})},
      {"fe80::1", v6({0xfe80, 0, 0, 0, 0, 0, 0, 1})},
      {"FE80::1", v6({0xfe80, 0, 0, 0, 0, 0, 0, 1})},
      {"2001:db8::", v6({0x2001, 0xdb8, 0, 0, 0, 0, 0, 0})},
      {"2001:DB8:0:0:0:0:0:1", v6({0x2001, 0xdb8, 0, 0, 0, 0, 0, 1})},
      {"2001:0db8:0000:0000:0000:0000:0000:0001", v6({0x2001, 0xdb8, 0, 0, 0, 0, 0, 1})},
      {"1:2:3:4:5:6:7:8", v6({1, 2, 3, 4, 5, 6, 7, 8})},
      {"1:2:3:4:5:6:7::", v6({1, 2, 3, 4, 5, 6, 7, 0})},
      {"::2:3:4:5:6:7:8", v6({0, 2, 3, 4, 5, 6, 7, 8})},
      {"1::8", v6({1, 0, 0, 0, 0, 0, 0, 8})},
      {"1:2::7:8", v6({1, 2, 0, 0, 0, 0, 7, 8})},
      {"1:0::0:8", v6({1, 0, 0, 0, 0, 0, 0, 8})},
      {"::ffff:1.2.3.4", ipv4(1, 2, 3, 4)},
      {"::FFFF:1.2.3.4", ipv4(1, 2, 3, 4)},
      {"0:0:0:0:0:ffff:1.2.3.4", ipv4(1, 2, 3, 4)},
      {"::ffff:102:304", ipv4(1, 2, 3, 4)},
      {"::1.2.3.4", v6({0, 0, 0, 0, 0, 0, 0x0102, 0x0304})},
      {"64:ff9b::192.0.2.1", v6({0x64, 0xff9b, 0, 0, 0, 0, 0xc000, 0x0201})},
      {"1:2:3:4:5:6:1.2.3.4", v6({1, 2, 3, 4, 5, 6, 0x0102, 0x0304})},
      {"1:2:3:4:5::1.2.3.4", v6({1, 2, 3, 4, 5, 0, 0x0102, 0x0304})},
      {"ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff", v6({0xffff, 0xffff, 0xffff, 0xffff, 0xffff, 0xffff, 0xffff, 0xffff})},
  };
  for (const auto& [text, expected] : cases) {
    EXPECT_EQ(ip(text), expected) << text;
  }
}

TEST(NetIpAddress, RejectsMalformedAddresses) {
  const std::vector<std::string> cases = {
      "",
      " ",
      "1.2.3",
      "1.2.3.4.5",
      "256.1.1.1",
      "1.2.3.256",
      "1.2.3.-1",
      "+1.2.3.4",
      "1.+2.3.4",
      " 1.2.3.4",
      "1.2.3.4 ",
      "01.2.3.4",
      "1.2.3.04",
      "1..2.3",
      "1.2.3.",
      ".1.2.3",
      "a.b.c.d",
      "1.2.3.4/8",
      "0x1.2.3.4",
      "1234.1.1.1",
      ":",
      ":::",
      "1:::2",
      "1::2::3",
      "::1::",
      "1:2:3:4:5:6:7:8:9",
      "1:2:3:4:5:6:7",
      "12345::",
      "::12345",
      "::g",
      "g::",
      "1:2:3:4:5:6:7:8::",
      "::1:2:3:4:5:6:7:8",
      "1:2:3:4:5:6:7::8",
      "1:2:3:4::5:6:7:8",
      ":1::",
      ":1:2:3:4:5:6:7:8",
      "1:2:3:4:5:6:7:8:",
      "1::2:",
      "fe80::1%eth0",
      "fe80::1%1",
      "[::1]",
      "::1.2.3",
      "::1.2.3.4.5",
      "::ffff:256.1.1.1",
      "::ffff:01.2.3.4",
      "1.2.3.4::",
      "::1.2.3.4:5",
      "1.2.3.4:80",
      "::1.2.3.4::",
      "1:2:3:4:5:6:7:1.2.3.4",
      "1:2:3:4:5:6:7::1.2.3.4",
      "::ffff:1.2.3.4/128",
      "1:2:3:4:5:6:7:8 ",
      " ::1",
      ":: 1",
      "-::1",
  };
  for (const std::string& text : cases) {
    EXPECT_FALSE(parse_ip(text).has_value()) << "'" << text << "'";
  }
}

TEST(NetIpAddress, FormatsCanonically) {
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"1.2.3.4", "1.2.3.4"},
      {"::ffff:1.2.3.4", "1.2.3.4"},
      {"::ffff:0:0", "0.0.0.0"},
      {"::", "::"},
      {"::1", "::1"},
      {"1::", "1::"},
      {"fe80::", "fe80::"},
      {"FE80:0000:0000:0000:0000:0000:0000:0001", "fe80::1"},
      {"2001:DB8::ABCD", "2001:db8::abcd"},
      {"2001:0db8:0000:0000:0000:0000:0002:0001", "2001:db8::2:1"},
      {"2001:db8:0:1:1:1:1:1", "2001:db8:0:1:1:1:1:1"},  // a single zero group stays
      {"2001:db8:0:0:1:0:0:1", "2001:db8::1:0:0:1"},     // the first of equal runs
      {"1:0:0:2:0:0:0:3", "1:0:0:2::3"},                 // the longest run
      {"0:0:1:0:0:0:0:0", "0:0:1::"},
      {"1:2:3:4:5:6:7:0", "1:2:3:4:5:6:7:0"},
      {"0:1:2:3:4:5:6:7", "0:1:2:3:4:5:6:7"},
      {"1:0:0:0:0:0:0:0", "1::"},
      {"0:0:0:0:0:0:0:0", "::"},
      {"::1.2.3.4", "::102:304"},
      {"::fffe:1.2.3.4", "::fffe:102:304"},
      {"64:ff9b::192.0.2.1", "64:ff9b::c000:201"},
      {"ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff", "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff"},
      {"0:0:0:0:0:ffff:0:1", "0.0.0.1"},
      {"0:0:0:0:1:ffff:0:1", "::1:ffff:0:1"},
      {"abc:f00::00a0", "abc:f00::a0"},
  };
  for (const auto& [text, expected] : cases) {
    EXPECT_EQ(format_ip(ip(text)), expected) << text;
  }
}

TEST(NetIpAddress, FormatThenParseRoundTripsRandomAddresses) {
  std::mt19937 random(7);
  for (int i = 0; i < 20000; ++i) {
    IpAddress a;
    for (std::size_t g = 0; g < 8; ++g) {
      // Mostly zero groups, so runs of every length and position occur.
      const std::uint32_t pick = random() % 4;
      const std::uint16_t value = pick < 2 ? 0 : pick == 2 ? static_cast<std::uint16_t>(random() % 16)
                                                           : static_cast<std::uint16_t>(random());
      a.bytes[2 * g] = static_cast<std::uint8_t>(value >> 8);
      a.bytes[2 * g + 1] = static_cast<std::uint8_t>(value & 0xff);
    }
    if (i % 10 == 0) a = ipv4(static_cast<std::uint8_t>(random()), static_cast<std::uint8_t>(random()),
                              static_cast<std::uint8_t>(random()), static_cast<std::uint8_t>(random()));
    const std::string text = format_ip(a);
    const auto back = parse_ip(text);
    ASSERT_TRUE(back.has_value()) << text;
    EXPECT_EQ(*back, a) << text;
    // At most one "::", lowercase, no leading zeros in a group.
    const std::size_t gap = text.find("::");
    EXPECT_TRUE(gap == std::string::npos || text.find("::", gap + 1) == std::string::npos) << text;
    std::size_t start = 0;
    while (!is_ipv4(a) && start <= text.size()) {
      std::size_t end = text.find(':', start);
      if (end == std::string::npos) end = text.size();
      const std::string group = text.substr(start, end - start);
      EXPECT_FALSE(group.size() > 1 && group[0] == '0') << text;
      EXPECT_EQ(group.find_first_of("ABCDEF"), std::string::npos) << text;
      start = end + 1;
    }
    EXPECT_EQ(format_ip(*back), text);
  }
}

TEST(NetIpAddress, EndpointsFormatWithBracketsForIpv6Only) {
  EXPECT_EQ(format_endpoint(Endpoint{ipv4(192, 0, 2, 1), 80}), "192.0.2.1:80");
  EXPECT_EQ(format_endpoint(Endpoint{ip("2001:db8::1"), 443}), "[2001:db8::1]:443");
  EXPECT_EQ(format_endpoint(Endpoint{ip("::ffff:10.0.0.1"), 0}), "10.0.0.1:0");
  EXPECT_EQ(parse_endpoint("::1", 53), (Endpoint{loopback(false), 53}));
  EXPECT_FALSE(parse_endpoint("[::1]", 53));
}

TEST(NetIpAddress, UnspecifiedAndLoopbackInBothFamilies) {
  EXPECT_TRUE(is_unspecified(ip("0.0.0.0")));
  EXPECT_TRUE(is_unspecified(ip("::")));
  EXPECT_TRUE(is_unspecified(ip("::ffff:0.0.0.0")));
  EXPECT_FALSE(is_unspecified(ip("::1")));
  EXPECT_FALSE(is_unspecified(ip("0.0.0.1")));
  EXPECT_EQ(unspecified(true), ip("0.0.0.0"));
  EXPECT_EQ(unspecified(false), ip("::"));
  EXPECT_TRUE(is_loopback(ip("127.0.0.1")));
  EXPECT_TRUE(is_loopback(ip("127.255.0.9")));
  EXPECT_TRUE(is_loopback(ip("::ffff:127.0.0.1")));
  EXPECT_TRUE(is_loopback(ip("::1")));
  EXPECT_FALSE(is_loopback(ip("128.0.0.1")));
  EXPECT_FALSE(is_loopback(ip("::2")));
  EXPECT_FALSE(is_loopback(ip("::127.0.0.1")));  // IPv4-compatible, not mapped
  EXPECT_EQ(loopback(true), ip("127.0.0.1"));
  EXPECT_EQ(loopback(false), ip("::1"));
}

// The one strict number reader: addresses' parts, prefix lengths and ports.
TEST(NetIpAddress, DecimalsAreStrict) {
  EXPECT_EQ(parse_decimal("0", 3), 0u);
  EXPECT_EQ(parse_decimal("255", 3), 255u);
  EXPECT_EQ(parse_decimal("65535", 5), 65535u);
  EXPECT_FALSE(parse_decimal("", 3));
  EXPECT_FALSE(parse_decimal("1000", 3)) << "more digits than allowed";
  EXPECT_FALSE(parse_decimal("08", 3)) << "no leading zero";
  for (const char* text : {"+1", "-1", " 1", "1 ", "1a", "0x1"}) EXPECT_FALSE(parse_decimal(text, 5)) << text;
}

}  // namespace
}  // namespace sluice::net
