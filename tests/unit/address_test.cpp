#include "service/policy/address.h"

#include <gtest/gtest.h>

#include <random>
#include <string>
#include <utility>
#include <vector>

// Prefixes and port ranges; the address text itself is net_ip_address_test's.
namespace sluice::policy {
namespace {

net::IpAddress ip(const std::string& text) {
  const auto parsed = net::parse_ip(text);
  EXPECT_TRUE(parsed.has_value()) << text;
  return parsed.value_or(net::IpAddress{});
}

Cidr cidr(const std::string& text) {
  const auto parsed = parse_cidr(text);
  EXPECT_TRUE(parsed.has_value()) << text;
  return parsed.value_or(Cidr{});
}

TEST(AddressTest, ParsesAndNormalizesCidrs) {
  const Cidr ten = cidr("10.0.0.0/8");
  EXPECT_EQ(ten.network, net::ipv4(10, 0, 0, 0));
  EXPECT_EQ(ten.prefix_length, 104);
  EXPECT_EQ(format_cidr(ten), "10.0.0.0/8");

  const std::vector<std::pair<std::string, std::string>> cases = {
      {"10.0.0.0/8", "10.0.0.0/8"},
      {"10.1.2.3/8", "10.0.0.0/8"},
      {"1.2.3.255/31", "1.2.3.254/31"},
      {"172.31.255.255/12", "172.16.0.0/12"},
      {"1.2.3.4", "1.2.3.4/32"},
      {"1.2.3.4/32", "1.2.3.4/32"},
      {"1.2.3.4/0", "0.0.0.0/0"},
      {"0.0.0.0/0", "0.0.0.0/0"},
      {"::1", "::1/128"},
      {"::1/128", "::1/128"},
      {"::/0", "::/0"},
      {"ffff::1/0", "::/0"},
      {"2001:db8::/32", "2001:db8::/32"},
      {"2001:DB8:ffff::1/32", "2001:db8::/32"},
      {"2001:db8::ffff:ffff:ffff:ffff/65", "2001:db8:0:0:8000::/65"},
      {"fe80::1/10", "fe80::/10"},
      {"fe80::1/9", "fe80::/9"},
      {"fe80::1/8", "fe00::/8"},
      {"::ffff:10.0.0.0/104", "10.0.0.0/8"},
      {"::ffff:1.2.3.4", "1.2.3.4/32"},
      {"::ffff:0:0/96", "0.0.0.0/0"},
      {"::ffff:0:0/95", "::fffe:0:0/95"},
      {"::ffff:0:0/80", "::/80"},
  };
  for (const auto& [text, expected] : cases) {
    EXPECT_EQ(format_cidr(cidr(text)), expected) << text;
    EXPECT_EQ(cidr(expected), cidr(text)) << text;  // the formatted text means the same
  }
  EXPECT_EQ(cidr("1.2.3.4").prefix_length, 128);
  EXPECT_EQ(cidr("0.0.0.0/0").prefix_length, 96);
  EXPECT_EQ(cidr("::/0").prefix_length, 0);
  EXPECT_EQ(cidr("::ffff:10.0.0.0/104"), cidr("10.0.0.0/8"));
}

TEST(AddressTest, RejectsMalformedCidrs) {
  const std::vector<std::string> cases = {
      "",           "/8",          "1.2.3.4/",     "1.2.3.4/33",  "1.2.3.4/-1", "1.2.3.4/+8",
      "1.2.3.4/08", "1.2.3.4/8/8", "1.2.3.4/ 8",   "10.0.0.0/8 ", "::/129",     "::/1000",
      "::/-0",      "::/",         "1.2.3/24",     "[::1]/128",   "::1%1/128",  "10.0.0.0/8a",
      "10.0.0.0\\8", "1.2.3.4/999999999999",
  };
  for (const std::string& text : cases) {
    EXPECT_FALSE(parse_cidr(text).has_value()) << "'" << text << "'";
  }
}

TEST(AddressTest, ContainsHonoursFamilies) {
  EXPECT_TRUE(contains(cidr("10.0.0.0/8"), ip("10.255.0.1")));
  EXPECT_TRUE(contains(cidr("10.0.0.0/8"), ip("::ffff:10.1.1.1")));
  EXPECT_FALSE(contains(cidr("10.0.0.0/8"), ip("11.0.0.0")));
  EXPECT_FALSE(contains(cidr("10.0.0.0/8"), ip("::a00:1")));  // IPv4-compatible, not mapped
  EXPECT_TRUE(contains(cidr("172.16.0.0/12"), ip("172.31.255.255")));
  EXPECT_FALSE(contains(cidr("172.16.0.0/12"), ip("172.32.0.0")));
  EXPECT_FALSE(contains(cidr("172.16.0.0/12"), ip("172.15.255.255")));
  EXPECT_TRUE(contains(cidr("1.2.3.4"), ip("1.2.3.4")));
  EXPECT_FALSE(contains(cidr("1.2.3.4"), ip("1.2.3.5")));
  EXPECT_TRUE(contains(cidr("1.2.3.4/31"), ip("1.2.3.5")));
  EXPECT_FALSE(contains(cidr("1.2.3.4/31"), ip("1.2.3.6")));

  // IPv4 "any" is IPv4 only; IPv6 "any" is everything.
  EXPECT_TRUE(contains(cidr("0.0.0.0/0"), ip("1.2.3.4")));
  EXPECT_TRUE(contains(cidr("0.0.0.0/0"), ip("255.255.255.255")));
  EXPECT_FALSE(contains(cidr("0.0.0.0/0"), ip("::1")));
  EXPECT_FALSE(contains(cidr("0.0.0.0/0"), ip("2001:db8::1")));
  EXPECT_TRUE(contains(cidr("::/0"), ip("1.2.3.4")));
  EXPECT_TRUE(contains(cidr("::/0"), ip("::1")));
  EXPECT_TRUE(contains(cidr("::/0"), ip("2001:db8::1")));
  EXPECT_TRUE(contains(cidr("::ffff:0:0/96"), ip("8.8.8.8")));

  EXPECT_TRUE(contains(cidr("2001:db8::/32"), ip("2001:db8:1::1")));
  EXPECT_FALSE(contains(cidr("2001:db8::/32"), ip("2001:db9::")));
  EXPECT_TRUE(contains(cidr("fe80::/10"), ip("febf::1")));
  EXPECT_FALSE(contains(cidr("fe80::/10"), ip("fec0::1")));
  EXPECT_TRUE(contains(cidr("::/127"), ip("::1")));
  EXPECT_FALSE(contains(cidr("::/127"), ip("::2")));
  EXPECT_TRUE(contains(cidr("::1"), ip("::1")));
  EXPECT_FALSE(contains(cidr("::1"), ip("::")));
  EXPECT_FALSE(contains(cidr("::/96"), ip("1.2.3.4")));  // ::/96 is the IPv4-compatible block
}

TEST(AddressTest, ContainsAgreesWithBitwiseDefinition) {
  std::mt19937 random(11);
  for (int i = 0; i < 20000; ++i) {
    net::IpAddress a, b;
    for (std::size_t k = 0; k < 16; ++k) a.bytes[k] = static_cast<std::uint8_t>(random());
    b = a;
    const int length = static_cast<int>(random() % 129);
    // Flip one random bit: inside the prefix it must miss, outside it must hit.
    const int flip = static_cast<int>(random() % 128);
    b.bytes[static_cast<std::size_t>(flip / 8)] ^= static_cast<std::uint8_t>(0x80 >> (flip % 8));
    const Cidr c{mask_address(a, length), length};
    EXPECT_TRUE(contains(c, a));
    EXPECT_EQ(contains(c, b), flip >= length) << length << " " << flip;
  }
}

TEST(AddressTest, ParsesPortRanges) {
  EXPECT_EQ(parse_port_range("80"), (PortRange{80, 80}));
  EXPECT_EQ(parse_port_range("1"), (PortRange{1, 1}));
  EXPECT_EQ(parse_port_range("65535"), (PortRange{65535, 65535}));
  EXPECT_EQ(parse_port_range("8000-8100"), (PortRange{8000, 8100}));
  EXPECT_EQ(parse_port_range("1-65535"), (PortRange{1, 65535}));
  EXPECT_EQ(parse_port_range("443-443"), (PortRange{443, 443}));
  const std::vector<std::string> bad = {"",       "0",     "0-80",   "80-0",   "100-80", "65536",      "1-65536",
                                        "-80",    "80-",   "80-90-100", "+80", " 80",    "80 ",        "080",
                                        "80-090", "8o",    "99999999999", "80 - 90", "-", "0x50", "80,443"};
  for (const std::string& text : bad) {
    EXPECT_FALSE(parse_port_range(text).has_value()) << "'" << text << "'";
  }
}

TEST(AddressTest, FormatsPortRangesAndTestsContainment) {
  EXPECT_EQ(format_port_range(PortRange{80, 80}), "80");
  EXPECT_EQ(format_port_range(PortRange{8000, 8100}), "8000-8100");
  EXPECT_EQ(format_port_range(PortRange{1, 65535}), "1-65535");
  for (const char* text : {"80", "8000-8100", "1-65535", "65535"}) {
    EXPECT_EQ(format_port_range(*parse_port_range(text)), text);
  }
  const PortRange range{8000, 8100};
  EXPECT_TRUE(contains(range, 8000));
  EXPECT_TRUE(contains(range, 8100));
  EXPECT_TRUE(contains(range, 8050));
  EXPECT_FALSE(contains(range, 7999));
  EXPECT_FALSE(contains(range, 8101));
}

}  // namespace
}  // namespace sluice::policy
