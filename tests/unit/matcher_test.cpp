#include "service/policy/matcher.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cstdio>
#include <cctype>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "service/policy/address.h"
#include "service/policy/glob.h"

namespace sluice::policy {
namespace {

Cidr net(const std::string& text) {
  const auto c = parse_cidr(text);
  EXPECT_TRUE(c.has_value()) << text;
  return c.value_or(Cidr{});
}

net::IpAddress addr(const std::string& text) {
  const auto a = net::parse_ip(text);
  EXPECT_TRUE(a.has_value()) << text;
  return a.value_or(net::IpAddress{});
}

Rule rule(std::int64_t id, std::int64_t position, std::string app, Action action = Action::relay) {
  Rule r;
  r.id = id;
  r.position = position;
  r.app = std::move(app);
  r.action = action;
  return r;
}

FlowKey flow(std::string app, const std::string& destination, std::uint16_t port, Protocol protocol = Protocol::tcp,
             std::vector<std::string> users = {"1000", "alice"}) {
  FlowKey f;
  f.app = std::move(app);
  f.destination = addr(destination);
  f.port = port;
  f.protocol = protocol;
  f.user_ids = std::move(users);
  return f;
}

// Both matchers, which must agree; returns the deciding rule id (-1: none).
std::int64_t decide(const std::vector<Rule>& rules, const FlowKey& f, MatcherOptions options = {}) {
  const CompiledMatcher compiled(rules, options);
  const LinearMatcher linear(rules, options);
  const auto a = compiled.decide(f);
  const auto b = linear.decide(f);
  EXPECT_EQ(a.has_value(), b.has_value());
  if (a && b) {
    EXPECT_EQ(a->rule_id, b->rule_id);
    EXPECT_EQ(a->action, b->action);
    EXPECT_EQ(a->rate, b->rate);
  }
  return a ? a->rule_id.value_or(-2) : -1;
}

const std::string kCurl = "/usr/bin/curl";

TEST(MatcherTest, NoRulesNoDecision) {
  EXPECT_EQ(decide({}, flow(kCurl, "1.2.3.4", 443)), -1);
  const CompiledMatcher m({}, {});
  EXPECT_EQ(m.rule_count(), 0u);
  EXPECT_FALSE(m.decide(flow(kCurl, "::1", 1)).has_value());
}

TEST(MatcherTest, FirstMatchByPositionWins) {
  // Given out of order on purpose: evaluation follows `position`.
  std::vector<Rule> rules = {rule(30, 3, "**"), rule(10, 1, kCurl), rule(20, 2, "/usr/bin/*")};
  EXPECT_EQ(decide(rules, flow(kCurl, "1.2.3.4", 443)), 10);
  EXPECT_EQ(decide(rules, flow("/usr/bin/wget", "1.2.3.4", 443)), 20);
  EXPECT_EQ(decide(rules, flow("/opt/x", "1.2.3.4", 443)), 30);
  rules[1].position = 4;  // the exact rule now comes last
  EXPECT_EQ(decide(rules, flow(kCurl, "1.2.3.4", 443)), 20);
  rules[2].position = 5;
  EXPECT_EQ(decide(rules, flow(kCurl, "1.2.3.4", 443)), 30);
}

TEST(MatcherTest, AnyAppRuleAheadOfExactRuleWins) {
  Rule any = rule(1, 1, "**", Action::block);
  any.destinations = {net("10.0.0.0/8")};
  const std::vector<Rule> rules = {any, rule(2, 2, kCurl, Action::direct)};
  EXPECT_EQ(decide(rules, flow(kCurl, "10.1.1.1", 80)), 1);
  EXPECT_EQ(decide(rules, flow(kCurl, "11.1.1.1", 80)), 2);
}

TEST(MatcherTest, EqualPositionsKeepInputOrder) {
  const std::vector<Rule> rules = {rule(7, 1, "**"), rule(5, 1, kCurl), rule(6, 1, "/usr/**")};
  EXPECT_EQ(decide(rules, flow(kCurl, "1.1.1.1", 1)), 7);
  const std::vector<Rule> reversed = {rule(6, 1, "/usr/**"), rule(5, 1, kCurl), rule(7, 1, "**")};
  EXPECT_EQ(decide(reversed, flow(kCurl, "1.1.1.1", 1)), 6);
}

TEST(MatcherTest, DisabledRulesAreIgnored) {
  Rule off = rule(1, 1, kCurl, Action::block);
  off.enabled = false;
  Rule off_any = rule(2, 2, "**", Action::block);
  off_any.enabled = false;
  const std::vector<Rule> rules = {off, off_any, rule(3, 3, kCurl, Action::direct)};
  EXPECT_EQ(decide(rules, flow(kCurl, "1.2.3.4", 443)), 3);
  EXPECT_EQ(decide(rules, flow("/bin/other", "1.2.3.4", 443)), -1);
  EXPECT_EQ(CompiledMatcher(rules, {}).rule_count(), 1u);
  EXPECT_EQ(LinearMatcher(rules, {}).rule_count(), 1u);
}

TEST(MatcherTest, DecisionCarriesActionIdAndRate) {
  Rule r = rule(42, 1, kCurl, Action::relay);
  r.rate.up = 1000;
  r.rate.down = 2000;
  const CompiledMatcher m({r}, {});
  const auto d = m.decide(flow(kCurl, "1.2.3.4", 443));
  ASSERT_TRUE(d.has_value());
  EXPECT_EQ(d->action, Action::relay);
  EXPECT_EQ(d->rule_id, 42);
  EXPECT_EQ(d->rate.up, 1000u);
  EXPECT_EQ(d->rate.down, 2000u);
}

TEST(MatcherTest, Ipv4RulesMatchMappedDestinations) {
  Rule r = rule(1, 1, "**");
  r.destinations = {net("10.0.0.0/8")};
  EXPECT_EQ(decide({r}, flow(kCurl, "10.1.2.3", 80)), 1);
  EXPECT_EQ(decide({r}, flow(kCurl, "::ffff:10.1.2.3", 80)), 1);
  EXPECT_EQ(decide({r}, flow(kCurl, "11.1.2.3", 80)), -1);
  EXPECT_EQ(decide({r}, flow(kCurl, "::a01:203", 80)), -1);  // IPv4-compatible is not IPv4

  // IPv4 "any" is IPv4 only, IPv6 "any" is everything; same for exact-app rules.
  for (const std::string& app : {std::string("**"), kCurl, std::string("/usr/bin/*")}) {
    Rule v4_any = rule(2, 1, app);
    v4_any.destinations = {net("0.0.0.0/0")};
    Rule v6_any = rule(3, 2, app);
    v6_any.destinations = {net("::/0")};
    const std::vector<Rule> rules = {v4_any, v6_any};
    EXPECT_EQ(decide(rules, flow(kCurl, "8.8.8.8", 53)), 2) << app;
    EXPECT_EQ(decide(rules, flow(kCurl, "2001:db8::1", 53)), 3) << app;
    EXPECT_EQ(decide(rules, flow(kCurl, "::", 53)), 3) << app;
    EXPECT_EQ(decide({v6_any}, flow(kCurl, "8.8.8.8", 53)), 3) << app;
  }
}

TEST(MatcherTest, Ipv6AndNestedPrefixes) {
  Rule wide = rule(1, 5, "**");
  wide.destinations = {net("2001:db8::/32")};
  Rule narrow = rule(2, 2, "**");
  narrow.destinations = {net("2001:db8:1::/48")};
  Rule host = rule(3, 9, "**");
  host.destinations = {net("2001:db8:1::1")};
  Rule v4 = rule(4, 1, "**");
  v4.destinations = {net("192.168.0.0/16"), net("2001:db8:2::/48")};  // one rule, two nodes
  const std::vector<Rule> rules = {wide, narrow, host, v4};
  EXPECT_EQ(decide(rules, flow(kCurl, "2001:db8:1::1", 443)), 2);
  EXPECT_EQ(decide(rules, flow(kCurl, "2001:db8:1::2", 443)), 2);
  EXPECT_EQ(decide(rules, flow(kCurl, "2001:db8:3::1", 443)), 1);
  EXPECT_EQ(decide(rules, flow(kCurl, "2001:db8:2::1", 443)), 4);
  EXPECT_EQ(decide(rules, flow(kCurl, "192.168.7.7", 443)), 4);
  EXPECT_EQ(decide(rules, flow(kCurl, "2001:db9::1", 443)), -1);
  EXPECT_EQ(decide(rules, flow(kCurl, "fe80::1", 443)), -1);
}

TEST(MatcherTest, UnnormalizedCidrsInRulesStillWork) {
  Rule r = rule(1, 1, "**");
  r.destinations = {Cidr{net::ipv4(10, 1, 2, 3), 104}};  // 10.1.2.3/8 as built by hand
  EXPECT_EQ(decide({r}, flow(kCurl, "10.200.0.1", 80)), 1);
  EXPECT_EQ(decide({r}, flow(kCurl, "11.0.0.1", 80)), -1);
}

TEST(MatcherTest, PortRanges) {
  Rule r = rule(1, 1, kCurl);
  r.ports = {PortRange{80, 80}, PortRange{8000, 8100}};
  EXPECT_EQ(decide({r}, flow(kCurl, "1.2.3.4", 80)), 1);
  EXPECT_EQ(decide({r}, flow(kCurl, "1.2.3.4", 8000)), 1);
  EXPECT_EQ(decide({r}, flow(kCurl, "1.2.3.4", 8100)), 1);
  EXPECT_EQ(decide({r}, flow(kCurl, "1.2.3.4", 8101)), -1);
  EXPECT_EQ(decide({r}, flow(kCurl, "1.2.3.4", 81)), -1);
  EXPECT_EQ(decide({r}, flow(kCurl, "1.2.3.4", 7999)), -1);
  Rule any = rule(2, 2, "**");
  any.ports = {PortRange{1, 1024}};
  EXPECT_EQ(decide({r, any}, flow(kCurl, "1.2.3.4", 443)), 2);
  EXPECT_EQ(decide({r, any}, flow(kCurl, "1.2.3.4", 65535)), -1);
}

TEST(MatcherTest, ProtocolAnyMatchesBoth) {
  Rule udp = rule(1, 1, "**");
  udp.protocol = Protocol::udp;
  udp.ports = {PortRange{53, 53}};
  Rule tcp = rule(2, 2, kCurl);
  tcp.protocol = Protocol::tcp;
  Rule any = rule(3, 3, kCurl);
  any.protocol = Protocol::any;
  const std::vector<Rule> rules = {udp, tcp, any};
  EXPECT_EQ(decide(rules, flow(kCurl, "1.1.1.1", 53, Protocol::udp)), 1);
  EXPECT_EQ(decide(rules, flow(kCurl, "1.1.1.1", 53, Protocol::tcp)), 2);
  EXPECT_EQ(decide(rules, flow(kCurl, "1.1.1.1", 54, Protocol::udp)), 3);
}

TEST(MatcherTest, UsersByIdOrName) {
  Rule by_uid = rule(1, 1, kCurl);
  by_uid.user = "1000";
  Rule by_name = rule(2, 2, kCurl);
  by_name.user = "bob";
  Rule any_user = rule(3, 3, kCurl);
  const std::vector<Rule> rules = {by_uid, by_name, any_user};
  EXPECT_EQ(decide(rules, flow(kCurl, "1.1.1.1", 1, Protocol::tcp, {"1000", "alice"})), 1);
  EXPECT_EQ(decide(rules, flow(kCurl, "1.1.1.1", 1, Protocol::tcp, {"1001", "bob"})), 2);
  EXPECT_EQ(decide(rules, flow(kCurl, "1.1.1.1", 1, Protocol::tcp, {"0", "root"})), 3);
  EXPECT_EQ(decide(rules, flow(kCurl, "1.1.1.1", 1, Protocol::tcp, {})), 3);
  EXPECT_EQ(decide(rules, flow(kCurl, "1.1.1.1", 1, Protocol::tcp, {"1001", "BOB"})), 3);  // case-sensitive
  MatcherOptions ci{true};
  EXPECT_EQ(decide(rules, flow(kCurl, "1.1.1.1", 1, Protocol::tcp, {"1001", "BOB"}), ci), 2);

  Rule sid = rule(4, 1, "**");
  sid.user = "HOST\\Alice";
  EXPECT_EQ(decide({sid}, flow("C:\\a.exe", "1.1.1.1", 1, Protocol::tcp, {"S-1-5-21-1", "host\\alice"}), ci), 4);
  EXPECT_EQ(decide({sid}, flow("C:\\a.exe", "1.1.1.1", 1, Protocol::tcp, {"S-1-5-21-1", "host\\alice"})), -1);
}

TEST(MatcherTest, PathCaseSensitivityFollowsOptions) {
  const std::vector<Rule> rules = {rule(1, 1, "C:\\Program Files\\App\\app.exe"),
                                   rule(2, 2, "C:\\Tools\\*.EXE"), rule(3, 3, "**\\Chrome.exe"),
                                   rule(4, 4, "c:\\games\\**")};
  const MatcherOptions ci{true};
  EXPECT_EQ(decide(rules, flow("c:\\program files\\app\\APP.EXE", "1.1.1.1", 1), ci), 1);
  EXPECT_EQ(decide(rules, flow("c:\\program files\\app\\APP.EXE", "1.1.1.1", 1)), -1);
  EXPECT_EQ(decide(rules, flow("C:\\Program Files\\App\\app.exe", "1.1.1.1", 1)), 1);
  EXPECT_EQ(decide(rules, flow("c:\\tools\\x.exe", "1.1.1.1", 1), ci), 2);
  EXPECT_EQ(decide(rules, flow("c:\\tools\\x.exe", "1.1.1.1", 1)), -1);
  EXPECT_EQ(decide(rules, flow("C:\\Tools\\x.EXE", "1.1.1.1", 1)), 2);
  EXPECT_EQ(decide(rules, flow("D:\\x\\CHROME.EXE", "1.1.1.1", 1), ci), 3);
  EXPECT_EQ(decide(rules, flow("D:\\x\\CHROME.EXE", "1.1.1.1", 1)), -1);
  EXPECT_EQ(decide(rules, flow("C:\\GAMES\\a\\b.exe", "1.1.1.1", 1), ci), 4);
  EXPECT_EQ(decide(rules, flow("C:\\GAMES\\a\\b.exe", "1.1.1.1", 1)), -1);
}

TEST(MatcherTest, SingleStarStaysInOneComponentDoubleStarCrosses) {
  const std::vector<Rule> rules = {rule(1, 1, "/opt/*/bin/tool"), rule(2, 2, "/opt/**/tool"), rule(3, 3, "*"),
                                   rule(4, 4, "**/*"), rule(5, 5, "/opt/?/x")};
  EXPECT_EQ(decide(rules, flow("/opt/app/bin/tool", "1.1.1.1", 1)), 1);
  EXPECT_EQ(decide(rules, flow("/opt/app/v2/bin/tool", "1.1.1.1", 1)), 2);
  EXPECT_EQ(decide(rules, flow("relative-name", "1.1.1.1", 1)), 3);
  EXPECT_EQ(decide(rules, flow("/opt/a/x", "1.1.1.1", 1)), 4);
  const std::vector<Rule> only_question = {rule(5, 5, "/opt/?/x")};
  EXPECT_EQ(decide(only_question, flow("/opt/a/x", "1.1.1.1", 1)), 5);
  EXPECT_EQ(decide(only_question, flow("/opt/ab/x", "1.1.1.1", 1)), -1);
  EXPECT_EQ(decide(only_question, flow("/opt///x", "1.1.1.1", 1)), -1);
}

TEST(MatcherTest, GlobsWithSharedPrefixesAndSuffixes) {
  const std::vector<Rule> rules = {rule(1, 1, "/usr/lib/firefox/*-bin"), rule(2, 2, "/usr/lib/**"),
                                   rule(3, 3, "/usr/**/firefox"),       rule(4, 4, "/usr/lib/firefox/**"),
                                   rule(5, 5, "**/firefox"),            rule(6, 6, "/u*")};
  EXPECT_EQ(decide(rules, flow("/usr/lib/firefox/firefox-bin", "1.1.1.1", 1)), 1);
  EXPECT_EQ(decide(rules, flow("/usr/lib/firefox/firefox", "1.1.1.1", 1)), 2);
  EXPECT_EQ(decide(rules, flow("/usr/local/bin/firefox", "1.1.1.1", 1)), 3);
  EXPECT_EQ(decide(rules, flow("/opt/firefox", "1.1.1.1", 1)), 5);
  EXPECT_EQ(decide(rules, flow("/usrx", "1.1.1.1", 1)), 6);
  EXPECT_EQ(decide(rules, flow("/usr", "1.1.1.1", 1)), 6);
  EXPECT_EQ(decide(rules, flow("/us", "1.1.1.1", 1)), 6);
  EXPECT_EQ(decide(rules, flow("/x", "1.1.1.1", 1)), -1);
  EXPECT_EQ(decide(rules, flow("", "1.1.1.1", 1)), -1);
}

TEST(MatcherTest, StarComponentsInsideGlobs) {
  const std::vector<Rule> rules = {rule(1, 1, "C:\\Users\\*\\AppData\\Local\\Vendor\\**"),
                                   rule(2, 2, "/home/*/.local/bin/tool"),
                                   rule(3, 3, "/opt/v*/bin/*"),
                                   rule(4, 4, "/a/*/b/*/c"),
                                   rule(5, 5, "/a/x/b/**"),
                                   rule(6, 6, "/a/*/*/y"),
                                   rule(7, 7, "/a/**")};
  const MatcherOptions ci{true};
  EXPECT_EQ(decide(rules, flow("C:\\Users\\bob\\AppData\\Local\\Vendor\\x\\app.exe", "1.1.1.1", 1)), 1);
  EXPECT_EQ(decide(rules, flow("c:\\users\\bob\\appdata\\local\\vendor\\app.exe", "1.1.1.1", 1), ci), 1);
  EXPECT_EQ(decide(rules, flow("c:\\users\\bob\\appdata\\local\\vendor\\app.exe", "1.1.1.1", 1)), -1);
  EXPECT_EQ(decide(rules, flow("C:\\Users\\bob\\x\\AppData\\Local\\Vendor\\app.exe", "1.1.1.1", 1)), -1);
  EXPECT_EQ(decide(rules, flow("C:\\Users\\\\AppData\\Local\\Vendor\\app.exe", "1.1.1.1", 1)), 1);  // "*" may be empty
  EXPECT_EQ(decide(rules, flow("/home/alice/.local/bin/tool", "1.1.1.1", 1)), 2);
  EXPECT_EQ(decide(rules, flow("/home/alice/.local/bin/tool2", "1.1.1.1", 1)), -1);
  EXPECT_EQ(decide(rules, flow("/opt/vendor/bin/run", "1.1.1.1", 1)), 3);
  EXPECT_EQ(decide(rules, flow("/opt/v/bin/run", "1.1.1.1", 1)), 3);
  EXPECT_EQ(decide(rules, flow("/opt/x/bin/run", "1.1.1.1", 1)), -1);
  EXPECT_EQ(decide(rules, flow("/a/x/b/z/c", "1.1.1.1", 1)), 4);
  EXPECT_EQ(decide(rules, flow("/a/x/b/z/d", "1.1.1.1", 1)), 5);
  EXPECT_EQ(decide(rules, flow("/a/q/r/y", "1.1.1.1", 1)), 6);
  EXPECT_EQ(decide(rules, flow("/a/q/r/s/y", "1.1.1.1", 1)), 7);
}

TEST(MatcherTest, CopiesShareTheIndexAndDecideFromManyThreads) {
  std::vector<Rule> rules;
  for (int i = 0; i < 200; ++i) {
    Rule r = rule(i + 1, i + 1, "/bin/app" + std::to_string(i % 50));
    r.ports = {PortRange{static_cast<std::uint16_t>(i + 1), static_cast<std::uint16_t>(i + 1)}};
    rules.push_back(r);
  }
  const CompiledMatcher original(rules, {});
  const CompiledMatcher copy = original;
  const LinearMatcher linear(rules, {});
  std::vector<int> mismatches(4, 0);
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < 5000; ++i) {
        const FlowKey f = flow("/bin/app" + std::to_string(i % 60), "1.2.3.4", static_cast<std::uint16_t>(i % 250));
        const auto a = (t % 2 == 0 ? original : copy).decide(f);
        const auto b = linear.decide(f);
        if (a.has_value() != b.has_value() || (a && a->rule_id != b->rule_id)) ++mismatches[static_cast<std::size_t>(t)];
      }
    });
  }
  for (auto& thread : threads) thread.join();
  EXPECT_EQ(mismatches, std::vector<int>(4, 0));
  EXPECT_EQ(copy.rule_count(), 200u);
}

// ---------------------------------------------------------------------------------
// Differential test: random rule sets and flows; CompiledMatcher must agree with
// LinearMatcher on every flow.

struct Universe {
  std::vector<std::string> programs;
  std::vector<std::string> globs;
  std::vector<Cidr> cidrs;
  std::vector<PortRange> ports;
  std::vector<std::string> users = {"0", "1000", "alice", "bob", "ALICE", "S-1-5-21-7", "HOST\\carol"};
  std::vector<std::vector<std::string>> user_sets = {
      {"1000", "alice"}, {"0", "root"}, {}, {"1001", "bob"}, {"S-1-5-21-7", "host\\Carol"}, {"1002", "Alice"}};
};

Universe make_universe(std::mt19937_64& random) {
  Universe u;
  const std::vector<std::string> roots = {"/usr/bin/", "/usr/lib/", "/opt/", "/home/alice/.local/bin/",
                                          "C:\\Program Files\\", "C:\\Users\\Bob\\AppData\\", "/snap/"};
  for (int i = 0; i < 400; ++i) {
    const std::string& root = roots[random() % roots.size()];
    const bool windows = root[0] == 'C';
    const std::string sep = windows ? "\\" : "/";
    std::string path = root;
    if (random() % 2) path += "Vendor" + std::to_string(random() % 6) + sep;
    if (random() % 3 == 0) path += "sub" + std::to_string(random() % 3) + sep;
    path += "Tool" + std::to_string(random() % 25) + (windows ? ".exe" : "");
    u.programs.push_back(path);
  }
  std::sort(u.programs.begin(), u.programs.end());
  u.programs.erase(std::unique(u.programs.begin(), u.programs.end()), u.programs.end());
  // Globs derived from the programs, so they hit.
  for (int i = 0; i < 120; ++i) {
    std::string p = u.programs[random() % u.programs.size()];
    const std::size_t cut = p.find_last_of("/\\");
    switch (random() % 11) {
      case 9:
      case 10: {  // a whole inner component as "*", or a partial one as "x*"
        std::vector<std::size_t> seps;
        for (std::size_t k = 0; k < cut; ++k) {
          if (p[k] == '/' || p[k] == '\\') seps.push_back(k);
        }
        if (seps.size() >= 2) {
          const std::size_t which = random() % (seps.size() - 1);
          const std::size_t a = seps[which] + 1, b = seps[which + 1];
          p = p.substr(0, a) + (random() % 2 ? std::string("*") : p.substr(a, 1) + "*") + p.substr(b);
        }
        break;
      }
      case 0: p = p.substr(0, cut + 1) + "*"; break;                              // dir/*
      case 1: p = p.substr(0, cut + 1) + "**"; break;                             // dir/**
      case 2: p = "**" + p.substr(cut); break;                                    // **/name
      case 3: p[p.size() / 2] = '?'; break;                                       // one char
      case 4: p = p.substr(0, std::min<std::size_t>(p.size(), 1 + random() % 10)) + "**"; break;
      case 5: p = p.substr(0, cut + 1) + "T*" + p.substr(p.size() - 1); break;   // prefix and suffix
      case 6: p = "*" + p.substr(cut); break;                                     // relative *name
      case 7: p = p.substr(0, 1 + random() % 6) + "**" + p.substr(cut); break;   // C:\**\name
      default: p = p.substr(0, cut) + "*" + p.substr(cut); break;                 // dir*/name
    }
    u.globs.push_back(p);
  }
  for (const char* unindexed : {"*", "**/*", "?*", "*?**"}) u.globs.push_back(unindexed);
  // Address prefixes of many lengths around a few bases, IPv4 and IPv6.
  const std::vector<std::string> v4_bases = {"10.1.2.3", "10.200.0.9", "192.168.1.77", "172.16.5.5", "8.8.8.8",
                                             "1.1.1.1"};
  const std::vector<std::string> v6_bases = {"2001:db8:1:2::abcd", "2001:db8:ffff::1", "fe80::1234", "2606:4700::1111",
                                             "::1"};
  for (const auto& base : v4_bases) {
    for (int length : {0, 1, 7, 8, 12, 16, 20, 24, 28, 31, 32}) u.cidrs.push_back(*parse_cidr(base + "/" + std::to_string(length)));
  }
  for (const auto& base : v6_bases) {
    for (int length : {0, 3, 16, 32, 33, 48, 64, 65, 96, 120, 127, 128}) {
      u.cidrs.push_back(*parse_cidr(base + "/" + std::to_string(length)));
    }
  }
  u.cidrs.push_back(*parse_cidr("::ffff:0:0/96"));
  u.cidrs.push_back(*parse_cidr("::ffff:0:0/95"));
  u.ports = {PortRange{80, 80}, PortRange{443, 443}, PortRange{53, 53}, PortRange{8000, 8100},
             PortRange{1, 1024}, PortRange{1, 65535}, PortRange{1024, 65535}, PortRange{443, 444}};
  return u;
}

std::string vary_case(std::string s, std::mt19937_64& random) {
  for (char& c : s) {
    if (random() % 4 == 0) c = static_cast<char>(std::isupper(static_cast<unsigned char>(c)) ? std::tolower(c) : std::toupper(c));
  }
  return s;
}

std::vector<Rule> make_rules(const Universe& u, std::mt19937_64& random, std::size_t count, bool duplicate_positions,
                             bool broad_tail) {
  // Broad rules (every program, every address, "*"-like globs) only in the last tenth
  // of positions, or one early catch-all would decide nearly every flow.
  std::vector<std::size_t> narrow_cidrs, narrow_globs;
  for (std::size_t i = 0; i < u.cidrs.size(); ++i) {
    const bool v4 = net::is_ipv4(u.cidrs[i].network) && u.cidrs[i].prefix_length >= 96;
    if (u.cidrs[i].prefix_length >= (v4 ? 104 : 16)) narrow_cidrs.push_back(i);
  }
  for (std::size_t i = 0; i < u.globs.size(); ++i) {
    if (literal_prefix(u.globs[i]).size() + literal_suffix(u.globs[i]).size() >= 4) narrow_globs.push_back(i);
  }
  const std::size_t position_range = duplicate_positions ? count / 4 : count;
  std::vector<Rule> rules;
  for (std::size_t i = 0; i < count; ++i) {
    Rule r;
    r.id = static_cast<std::int64_t>(i) + 1000;
    r.position = duplicate_positions ? static_cast<std::int64_t>(random() % position_range) + 1
                                     : static_cast<std::int64_t>(i) + 1;
    const bool broad = broad_tail && static_cast<std::size_t>(r.position) * 10 > position_range * 9;
    const std::uint64_t kind = random() % 100;
    bool any_app = false;
    if (kind < 50) {
      r.app = u.programs[random() % u.programs.size()];
      if (random() % 8 == 0) r.app = vary_case(r.app, random);
    } else if (kind < 75) {
      r.app = broad ? u.globs[random() % u.globs.size()] : u.globs[narrow_globs[random() % narrow_globs.size()]];
    } else {
      r.app = kind < 77 ? "***" : "**";
      any_app = true;
    }
    auto pick_cidr = [&] {
      return broad ? u.cidrs[random() % u.cidrs.size()] : u.cidrs[narrow_cidrs[random() % narrow_cidrs.size()]];
    };
    std::uint64_t destinations = random() % 4;  // 0..3
    if (!broad && any_app && destinations == 0) destinations = 1;
    if (!any_app && random() % 2) destinations = 0;
    for (std::uint64_t d = 0; d < destinations; ++d) r.destinations.push_back(pick_cidr());
    if (random() % (broad ? 3 : 2) == 0) {
      for (std::uint64_t p = 0; p < 1 + random() % 2; ++p) r.ports.push_back(u.ports[random() % u.ports.size()]);
    }
    r.protocol = static_cast<Protocol>(random() % 3);
    if (random() % 4 == 0) r.user = u.users[random() % u.users.size()];
    r.enabled = random() % 10 != 0;
    r.action = static_cast<Action>(random() % 3);
    if (random() % 5 == 0) r.rate.up = random() % 100000;
    if (random() % 5 == 0) r.rate.down = random() % 100000;
    rules.push_back(std::move(r));
  }
  // Hand the matchers an unsorted list now and then: they order by position.
  if (random() % 2) std::shuffle(rules.begin(), rules.end(), random);
  return rules;
}

net::IpAddress random_address_in(const Cidr& c, std::mt19937_64& random) {
  net::IpAddress a = c.network;
  for (int bit = c.prefix_length; bit < 128; ++bit) {
    if (random() % 2) a.bytes[static_cast<std::size_t>(bit / 8)] |= static_cast<std::uint8_t>(0x80 >> (bit % 8));
  }
  return a;
}

FlowKey make_flow(const Universe& u, std::mt19937_64& random, bool case_insensitive) {
  FlowKey f;
  const std::uint64_t kind = random() % 20;
  if (kind < 17) {
    f.app = u.programs[random() % u.programs.size()];
    if (case_insensitive && random() % 3 == 0) f.app = vary_case(f.app, random);
  } else if (kind < 19) {
    f.app = "/unknown/prog" + std::to_string(random() % 10);
  } else {
    f.app = u.globs[random() % u.globs.size()];  // a path that happens to contain '*'
  }
  f.user_ids = u.user_sets[random() % u.user_sets.size()];
  f.protocol = random() % 2 ? Protocol::tcp : Protocol::udp;
  const std::uint64_t where = random() % 10;
  if (where < 6) {
    // Near a rule prefix: inside, or one bit off its edge.
    const Cidr& c = u.cidrs[random() % u.cidrs.size()];
    const int widen = static_cast<int>(random() % 3);
    f.destination = random_address_in(Cidr{c.network, std::max(0, c.prefix_length - widen)}, random);
  } else if (where < 8) {
    f.destination = net::ipv4(static_cast<std::uint8_t>(random()), static_cast<std::uint8_t>(random()),
                         static_cast<std::uint8_t>(random()), static_cast<std::uint8_t>(random()));
  } else {
    for (auto& b : f.destination.bytes) b = static_cast<std::uint8_t>(random());
  }
  const std::uint64_t port_kind = random() % 4;
  if (port_kind < 2) {
    const std::uint16_t fixed[] = {80, 443, 53, 8000, 8100, 8101, 1024, 1025, 444, 79, 65535, 1};
    f.port = fixed[random() % (sizeof(fixed) / sizeof(fixed[0]))];
  } else {
    f.port = static_cast<std::uint16_t>(1 + random() % 65535);
  }
  return f;
}

void run_differential(std::uint64_t seed, bool case_insensitive, bool duplicate_positions, bool broad_tail) {
  std::mt19937_64 random(seed);
  const Universe u = make_universe(random);
  const std::vector<Rule> rules = make_rules(u, random, 3000, duplicate_positions, broad_tail);
  const MatcherOptions options{case_insensitive};
  const CompiledMatcher compiled(rules, options);
  const LinearMatcher linear(rules, options);
  ASSERT_EQ(compiled.rule_count(), linear.rule_count());
  std::size_t matched = 0, mismatches = 0;
  std::vector<std::int64_t> deciders;
  for (int i = 0; i < 20000; ++i) {
    const FlowKey f = make_flow(u, random, case_insensitive);
    const auto a = compiled.decide(f);
    const auto b = linear.decide(f);
    const bool same = a.has_value() == b.has_value() &&
                      (!a || (a->rule_id == b->rule_id && a->action == b->action && a->rate == b->rate));
    if (!same) {
      if (++mismatches <= 5) {
        ADD_FAILURE() << "seed " << seed << " ci=" << case_insensitive << ": app '" << f.app << "' dest "
                      << net::format_ip(f.destination) << " port " << f.port << " -> compiled "
                      << (a ? std::to_string(*a->rule_id) : "none") << ", linear "
                      << (b ? std::to_string(*b->rule_id) : "none");
      }
    }
    if (b) {
      ++matched;
      deciders.push_back(*b->rule_id);
    }
  }
  EXPECT_EQ(mismatches, 0u);
  // The flows exercise the rules: most hit one, and many different rules decide.
  std::sort(deciders.begin(), deciders.end());
  deciders.erase(std::unique(deciders.begin(), deciders.end()), deciders.end());
  EXPECT_GT(matched, 20000u / 4) << "seed " << seed;
  EXPECT_GT(deciders.size(), 300u) << "seed " << seed;
  std::printf("seed %llu ci=%d: %zu of 20000 flows matched, %zu distinct deciding rules\n",
              static_cast<unsigned long long>(seed), case_insensitive ? 1 : 0, matched, deciders.size());
}

TEST(MatcherTest, CompiledAgreesWithLinearOnRandomRuleSets) {
  for (std::uint64_t seed : {1u, 2u, 3u, 4u}) {
    run_differential(seed, false, false, seed % 2 == 1);
    run_differential(seed, true, false, seed % 2 == 1);
  }
}

TEST(MatcherTest, CompiledAgreesWithLinearWithDuplicatePositions) {
  for (std::uint64_t seed : {11u, 12u}) {
    run_differential(seed, seed % 2 == 0, true, seed % 2 == 0);
  }
}

}  // namespace
}  // namespace sluice::policy
