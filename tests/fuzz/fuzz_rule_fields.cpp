// The text fields of a rule as administrators write them (service/policy/address.h,
// glob.h, rule.h): every parser gets the whole input; glob_match gets the part before
// the first newline as the pattern and the rest as the path. Properties:
//  - parse_ip agrees with the C library's inet_pton (dotted quads as IPv4-mapped),
//    and format_ip gives a text that parses back to the same address;
//  - parse_cidr's network has no host bits, contains itself, and format_cidr parses
//    back to the same prefix; parse_port_range gives 1 <= first <= last, and
//    format_port_range parses back to the same range;
//  - parse_action and parse_protocol accept exactly their keywords in any ASCII case;
//  - glob_match agrees with a plain NFA reading of glob.h's definition, in both case
//    modes; a match starts with literal_prefix and ends with literal_suffix; a
//    pattern without wildcards matches only itself.

#include <arpa/inet.h>

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string>
#include <string_view>
#include <vector>

#include "net/ip_address.h"
#include "service/policy/address.h"
#include "service/policy/glob.h"
#include "service/policy/rule.h"
#include "tests/fuzz/fuzz_support.h"

namespace {

using sluice::fuzz::expect;
using sluice::fuzz::quoted;
using namespace sluice::policy;

void check_address(std::string_view text) {
  const auto parsed = sluice::net::parse_ip(text);
  if (text.find('\0') == std::string_view::npos) {
    const std::string c_text(text);
    std::uint8_t bytes[16] = {};
    bool libc_accepts = false;
    sluice::net::IpAddress libc_address;
    if (text.find(':') == std::string_view::npos) {
      libc_accepts = inet_pton(AF_INET, c_text.c_str(), bytes) == 1;
      libc_address = sluice::net::ipv4(bytes[0], bytes[1], bytes[2], bytes[3]);
    } else {
      libc_accepts = inet_pton(AF_INET6, c_text.c_str(), bytes) == 1;
      std::memcpy(libc_address.bytes.data(), bytes, 16);
    }
    expect(parsed.has_value() == libc_accepts, "parse_ip accepts what inet_pton accepts", quoted(text));
    expect(!parsed || *parsed == libc_address, "parse_ip reads the address inet_pton reads", quoted(text));
  }
  if (!parsed) return;
  const std::string formatted = sluice::net::format_ip(*parsed);
  const auto reparsed = sluice::net::parse_ip(formatted);
  expect(reparsed && *reparsed == *parsed, "format_ip parses back to the same address", quoted(text) + " -> " + formatted);
  expect(sluice::net::format_ip(*reparsed) == formatted, "format_ip is canonical", formatted);
}

void check_cidr(std::string_view text) {
  const auto cidr = parse_cidr(text);
  if (!cidr) return;
  expect(cidr->prefix_length >= 0 && cidr->prefix_length <= 128, "a prefix length is 0..128", quoted(text));
  expect(mask_address(cidr->network, cidr->prefix_length) == cidr->network, "a network has no host bits", quoted(text));
  expect(contains(*cidr, cidr->network), "a prefix contains its network", quoted(text));
  expect(sluice::net::parse_ip(text.substr(0, text.find('/'))).has_value(), "a CIDR's address part is an address", quoted(text));
  const std::string formatted = format_cidr(*cidr);
  const auto reparsed = parse_cidr(formatted);
  expect(reparsed && *reparsed == *cidr, "format_cidr parses back to the same prefix", quoted(text) + " -> " + formatted);
}

void check_ports(std::string_view text) {
  const auto range = parse_port_range(text);
  if (!range) return;
  expect(range->first >= 1 && range->first <= range->last, "a port range is 1 <= first <= last", quoted(text));
  const std::string formatted = format_port_range(*range);
  const auto reparsed = parse_port_range(formatted);
  expect(reparsed && *reparsed == *range, "format_port_range parses back to the same range", quoted(text) + " -> " + formatted);
}

bool equals_ignoring_case(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i) {
    if (fold_ascii(a[i]) != fold_ascii(b[i])) return false;
  }
  return true;
}

void check_keywords(std::string_view text) {
  const std::string s(text);
  const auto action = parse_action(s);
  bool keyword = false;
  for (Action a : {Action::direct, Action::relay, Action::block}) keyword = keyword || equals_ignoring_case(s, to_string(a));
  expect(action.has_value() == keyword, "parse_action accepts exactly direct, relay and block", quoted(text));
  if (action) expect(equals_ignoring_case(s, to_string(*action)), "parse_action reads the keyword written", quoted(text));
  const auto protocol = parse_protocol(s);
  keyword = false;
  for (Protocol p : {Protocol::any, Protocol::tcp, Protocol::udp}) keyword = keyword || equals_ignoring_case(s, to_string(p));
  expect(protocol.has_value() == keyword, "parse_protocol accepts exactly any, tcp and udp", quoted(text));
  if (protocol) expect(equals_ignoring_case(s, to_string(*protocol)), "parse_protocol reads the keyword written", quoted(text));
}

// glob.h's definition as a nondeterministic automaton: one state per pattern token
// ("**" runs, "*", "?", literal characters), advanced a character at a time.
bool nfa_match(std::string_view pattern, std::string_view text, bool case_insensitive) {
  enum Kind { literal, any_one, star, double_star };
  struct Token {
    Kind kind;
    char c;
  };
  std::vector<Token> tokens;
  for (std::size_t i = 0; i < pattern.size();) {
    if (pattern[i] == '*') {
      std::size_t run = 0;
      while (i < pattern.size() && pattern[i] == '*') ++i, ++run;
      tokens.push_back({run >= 2 ? double_star : star, '*'});
    } else {
      tokens.push_back({pattern[i] == '?' ? any_one : literal, pattern[i]});
      ++i;
    }
  }
  const std::size_t n = tokens.size();
  std::vector<char> states(n + 1, 0), next(n + 1, 0);
  auto close = [&](std::vector<char>& s) {  // a star may match nothing
    for (std::size_t i = 0; i < n; ++i) {
      if (s[i] && (tokens[i].kind == star || tokens[i].kind == double_star)) s[i + 1] = 1;
    }
  };
  states[0] = 1;
  close(states);
  for (char x : text) {
    std::fill(next.begin(), next.end(), 0);
    for (std::size_t i = 0; i < n; ++i) {
      if (!states[i]) continue;
      const Token& t = tokens[i];
      switch (t.kind) {
        case double_star: next[i] = 1; break;
        case star: if (!is_path_separator(x)) next[i] = 1; break;
        case any_one: if (!is_path_separator(x)) next[i + 1] = 1; break;
        case literal:
          if (t.c == x || (case_insensitive && fold_ascii(t.c) == fold_ascii(x))) next[i + 1] = 1;
          break;
      }
    }
    close(next);
    states.swap(next);
  }
  return states[n] != 0;
}

void check_glob(std::string_view pattern, std::string_view text) {
  const std::string detail = quoted(pattern) + " against " + quoted(text);
  for (bool case_insensitive : {false, true}) {
    const bool matched = glob_match(pattern, text, case_insensitive);
    expect(matched == nfa_match(pattern, text, case_insensitive), "glob_match follows glob.h's definition", detail);
    if (!matched) continue;
    const std::string_view prefix = literal_prefix(pattern), suffix = literal_suffix(pattern);
    auto same = [&](std::string_view a, std::string_view b) { return case_insensitive ? equals_ignoring_case(a, b) : a == b; };
    expect(text.size() >= prefix.size() && same(text.substr(0, prefix.size()), prefix) && text.size() >= suffix.size() &&
               same(text.substr(text.size() - suffix.size()), suffix),
           "a match starts with the literal prefix and ends with the literal suffix", detail);
  }
  if (!is_glob(pattern)) expect(glob_match(pattern, text, false) == (pattern == text), "a plain path matches only itself", detail);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view text = sluice::fuzz::as_text(data, size);
  check_address(text);
  check_cidr(text);
  check_ports(text);
  check_keywords(text);
  const std::size_t newline = text.find('\n');
  check_glob(text.substr(0, newline), newline == std::string_view::npos ? std::string_view() : text.substr(newline + 1));
  return 0;
}
