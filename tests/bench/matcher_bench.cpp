// matcher_bench: per-decision latency of CompiledMatcher against the LinearMatcher
// baseline on a large generated policy.
//
// Generates (fixed seed) 100 000 rules: 60% exact executable paths over ~20 000
// programs (Linux and Windows style, a few popular programs with many rules), 10%
// globs ("dir/*", "dir/**", "**/name", "/home/*/.local/bin/name", "prefix*"), 30%
// any-program rules with IPv4/IPv6 CIDRs and port ranges, a handful of catch-all
// port rules at the end, 5% disabled; and 200 000 flows that hit exact-app rules,
// globs, any-app rules and the default. Builds both matchers, checks they agree on
// every flow (exit 1 if not), then times each decide() call with steady_clock.
//
// Usage: matcher_bench [--json FILE] [--rules N] [--flows N] [--linear-flows N]
//                      [--check-flows N] [--threads N] [--seed N] [--case-insensitive]
// --check-flows limits the agreement check to an evenly spaced subset (default: all).

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cinttypes>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <map>
#include <optional>
#include <random>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "service/policy/address.h"
#include "service/policy/matcher.h"
#include "service/policy/rule.h"

namespace {

using sluice::policy::Action;
using sluice::policy::Cidr;
using sluice::policy::CompiledMatcher;
using sluice::policy::Decision;
using sluice::policy::FlowKey;
using sluice::net::IpAddress;
using sluice::policy::LinearMatcher;
using sluice::policy::MatcherOptions;
using sluice::policy::PortRange;
using sluice::policy::Protocol;
using sluice::policy::Rule;
using Clock = std::chrono::steady_clock;

struct Options {
  std::string json;
  std::size_t rules = 100000;
  std::size_t flows = 200000;
  std::size_t linear_flows = 2000;
  std::size_t check_flows = 0;  // 0: every flow
  unsigned threads = 0;  // 0: hardware concurrency
  std::uint64_t seed = 20240611;
  bool case_insensitive = false;
};

[[noreturn]] void usage(const char* message) {
  std::fprintf(stderr, "matcher_bench: %s\n", message);
  std::fprintf(stderr,
               "usage: matcher_bench [--json FILE] [--rules N] [--flows N] [--linear-flows N] [--check-flows N]\n"
               "                     [--threads N] [--seed N] [--case-insensitive]\n");
  std::exit(2);
}

Options parse_options(int argc, char** argv) {
  Options o;
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    auto value = [&]() -> std::string {
      if (i + 1 >= argc) usage(("missing value for " + arg).c_str());
      return argv[++i];
    };
    auto number = [&]() -> std::uint64_t {
      const std::string v = value();
      char* end = nullptr;
      const unsigned long long n = std::strtoull(v.c_str(), &end, 10);
      if (v.empty() || *end != '\0') usage(("not a number: " + v).c_str());
      return n;
    };
    if (arg == "--json") {
      o.json = value();
    } else if (arg == "--rules") {
      o.rules = number();
    } else if (arg == "--flows") {
      o.flows = number();
    } else if (arg == "--linear-flows") {
      o.linear_flows = number();
    } else if (arg == "--check-flows") {
      o.check_flows = number();
    } else if (arg == "--threads") {
      o.threads = static_cast<unsigned>(number());
    } else if (arg == "--seed") {
      o.seed = number();
    } else if (arg == "--case-insensitive") {
      o.case_insensitive = true;
    } else if (arg == "--help" || arg == "-h") {
      usage("help");
    } else {
      usage(("unknown argument " + arg).c_str());
    }
  }
  if (o.rules < 100 || o.flows < 100) usage("--rules and --flows must be at least 100");
  o.linear_flows = std::clamp<std::size_t>(o.linear_flows, 1, o.flows);
  return o;
}

// ---------------------------------------------------------------------------------
// The generated world.

enum class Kind { exact, glob, any_app, none };
const char* kind_name(Kind k) {
  switch (k) {
    case Kind::exact: return "exact-app rule";
    case Kind::glob: return "glob rule";
    case Kind::any_app: return "any-app rule";
    case Kind::none: return "default (no rule)";
  }
  return "?";
}

class Generator {
 public:
  explicit Generator(std::uint64_t seed) : random_(seed) {}

  std::uint64_t next() { return random_(); }
  std::uint64_t below(std::uint64_t n) { return random_() % n; }
  bool chance(unsigned percent) { return below(100) < percent; }

  std::string word() {
    static const char* const syllables[] = {"ka", "lo",  "mi",  "ne",  "ra",  "to",  "vi",  "su",  "de",
                                            "fa", "go",  "hu",  "ji",  "pe",  "zo",  "bar", "tek", "lin",
                                            "mon", "sys", "net", "dat", "cor", "arc", "qu",  "ix",  "ol"};
    std::string w;
    const std::uint64_t n = 2 + below(2);
    for (std::uint64_t i = 0; i < n; ++i) w += syllables[below(sizeof(syllables) / sizeof(syllables[0]))];
    if (chance(30)) w += std::to_string(below(10));
    return w;
  }

  std::string capitalized(std::string w) {
    if (!w.empty() && w[0] >= 'a' && w[0] <= 'z') w[0] = static_cast<char>(w[0] - 'a' + 'A');
    return w;
  }

  IpAddress inside(const Cidr& c) {
    IpAddress a = c.network;
    for (int bit = c.prefix_length; bit < 128; ++bit) {
      if (random_() & 1) a.bytes[static_cast<std::size_t>(bit / 8)] |= static_cast<std::uint8_t>(0x80 >> (bit % 8));
    }
    return a;
  }

 private:
  std::mt19937_64 random_;
};

struct Program {
  std::string path;
  std::string dir;   // with the trailing separator
  std::string name;  // the last component
  char sep = '/';
};

struct World {
  std::vector<Program> programs;
  std::vector<Rule> rules;
  std::vector<Kind> rule_kind;                 // by rule index
  std::vector<std::size_t> rule_program;       // exact/glob rules: the program they came from
  std::vector<FlowKey> flows;
  std::map<std::int64_t, Kind> kind_by_id;
};

std::vector<Program> make_programs(Generator& g, std::size_t count) {
  std::vector<std::string> vendors, users, packages;
  for (int i = 0; i < 400; ++i) vendors.push_back(g.capitalized(g.word()));
  for (int i = 0; i < 200; ++i) users.push_back(g.word());
  for (int i = 0; i < 2000; ++i) packages.push_back(g.word());
  std::set<std::string> seen;
  std::vector<Program> programs;
  while (programs.size() < count) {
    Program p;
    const std::uint64_t style = g.below(100);
    const std::string& vendor = vendors[g.below(vendors.size())];
    const std::string name = g.word();
    if (style < 20) {
      p.dir = "/usr/bin/";
    } else if (style < 30) {
      p.dir = "/usr/lib/" + packages[g.below(packages.size())] + "/";
    } else if (style < 45) {
      p.dir = "/opt/" + vendor + "/" + g.word() + "/bin/";
    } else if (style < 50) {
      p.dir = "/home/" + users[g.below(users.size())] + "/.local/bin/";
    } else if (style < 55) {
      p.dir = "/snap/" + packages[g.below(packages.size())] + "/" + std::to_string(100 + g.below(900)) + "/bin/";
    } else if (style < 80) {
      p.dir = "C:\\Program Files\\" + vendor + "\\" + g.capitalized(g.word()) + "\\";
    } else if (style < 85) {
      p.dir = "C:\\Program Files (x86)\\" + vendor + "\\";
    } else if (style < 95) {
      p.dir = "C:\\Users\\" + users[g.below(users.size())] + "\\AppData\\Local\\" + vendor + "\\" +
              g.capitalized(g.word()) + "\\";
    } else {
      p.dir = "C:\\Windows\\System32\\";
    }
    p.sep = p.dir[0] == 'C' ? '\\' : '/';
    p.name = p.sep == '\\' ? name + ".exe" : name;
    p.path = p.dir + p.name;
    if (seen.insert(p.path).second) programs.push_back(std::move(p));
  }
  return programs;
}

Cidr random_cidr(Generator& g, const std::vector<std::uint32_t>& v4_bases, const std::vector<std::uint32_t>& v6_bases) {
  IpAddress a;
  int length = 0;
  if (g.chance(70)) {
    const std::uint32_t base = v4_bases[g.below(v4_bases.size())];  // a /16
    const std::uint32_t value = base | static_cast<std::uint32_t>(g.below(65536));
    a = sluice::net::ipv4(static_cast<std::uint8_t>(value >> 24), static_cast<std::uint8_t>(value >> 16),
                             static_cast<std::uint8_t>(value >> 8), static_cast<std::uint8_t>(value));
    const std::uint64_t pick = g.below(100);
    const int v4 = pick < 2 ? 8 : pick < 17 ? 12 + static_cast<int>(g.below(5)) : pick < 67 ? 20 + static_cast<int>(g.below(5))
                                                                                              : 25 + static_cast<int>(g.below(8));
    length = 96 + v4;
  } else {
    const std::uint32_t base = v6_bases[g.below(v6_bases.size())];  // a /32
    for (std::size_t i = 0; i < 4; ++i) a.bytes[i] = static_cast<std::uint8_t>(base >> (24 - 8 * i));
    for (std::size_t i = 4; i < 16; ++i) a.bytes[i] = static_cast<std::uint8_t>(g.next());
    const std::uint64_t pick = g.below(100);
    length = pick < 5 ? 32 : pick < 45 ? 48 : pick < 65 ? 56 : pick < 95 ? 64 : 128;
  }
  return Cidr{sluice::policy::mask_address(a, length), length};
}

std::vector<PortRange> random_ports(Generator& g) {
  static const PortRange common[] = {{80, 80},     {443, 443},     {53, 53},       {22, 22},       {25, 25},
                                     {3389, 3389}, {8080, 8090},   {1024, 65535},  {5000, 6000},   {993, 993},
                                     {123, 123},   {5222, 5223},   {27015, 27030}, {1, 1023},      {8443, 8443}};
  std::vector<PortRange> ports;
  const std::uint64_t n = 1 + (g.chance(25) ? 1 : 0);
  for (std::uint64_t i = 0; i < n; ++i) ports.push_back(common[g.below(sizeof(common) / sizeof(common[0]))]);
  return ports;
}

void fill_conditions(Generator& g, Rule& r) {
  const std::uint64_t p = g.below(100);
  r.protocol = p < 60 ? Protocol::any : p < 85 ? Protocol::tcp : Protocol::udp;
  if (g.chance(10)) r.user = g.chance(50) ? std::to_string(1000 + g.below(20)) : "user" + std::to_string(g.below(20));
  const std::uint64_t a = g.below(100);
  r.action = a < 40 ? Action::relay : a < 70 ? Action::direct : Action::block;
  if (g.chance(20)) r.rate.up = 1000 * (1 + g.below(10000));
  if (g.chance(20)) r.rate.down = 1000 * (1 + g.below(10000));
  r.enabled = !g.chance(5);
}

// A path the glob matches, usually of a program that has no exact rule.
std::string path_matching_glob(Generator& g, const std::string& glob, const Program& source) {
  std::string out;
  for (std::size_t i = 0; i < glob.size(); ++i) {
    if (glob[i] == '*') {
      const bool double_star = i + 1 < glob.size() && glob[i + 1] == '*';
      if (double_star) {
        ++i;
        out += g.chance(50) ? g.word() + source.sep + g.word() : g.word();
      } else {
        out += g.word();
      }
    } else if (glob[i] == '?') {
      out += 'x';
    } else {
      out += glob[i];
    }
  }
  return out;
}

World make_world(const Options& o) {
  Generator g(o.seed);
  World w;
  const std::size_t program_count = std::max<std::size_t>(100, o.rules / 5);
  w.programs = make_programs(g, program_count);
  std::vector<std::uint32_t> v4_bases, v6_bases;
  for (int i = 0; i < 3000; ++i) v4_bases.push_back(static_cast<std::uint32_t>(g.below(1u << 16)) << 16);
  for (int i = 0; i < 500; ++i) v6_bases.push_back(0x20000000u | static_cast<std::uint32_t>(g.below(1u << 28)));

  const std::size_t catch_alls = std::max<std::size_t>(1, o.rules / 5000);  // 20 for 100 000
  const std::size_t body = o.rules - catch_alls;
  // Kinds in random order along the positions: 60% exact, 10% glob, 30% any-app.
  std::vector<Kind> kinds;
  for (std::size_t i = 0; i < body; ++i) {
    const std::uint64_t k = g.below(100);
    kinds.push_back(k < 60 ? Kind::exact : k < 70 ? Kind::glob : Kind::any_app);
  }
  // A few popular programs (browsers, updaters) carry many rules each.
  const std::size_t popular = std::min<std::size_t>(200, w.programs.size());
  for (std::size_t i = 0; i < o.rules; ++i) {
    Rule r;
    r.id = static_cast<std::int64_t>(i) + 1;
    r.position = static_cast<std::int64_t>(i) + 1;
    fill_conditions(g, r);
    Kind kind = i < body ? kinds[i] : Kind::any_app;
    std::size_t source = 0;
    if (i >= body) {
      // Catch-alls at the end: any program and address, limited by port/protocol.
      r.app = "**";
      r.ports = random_ports(g);
      r.user.reset();
    } else if (kind == Kind::exact) {
      source = g.chance(10) ? g.below(popular) : g.below(w.programs.size());
      r.app = w.programs[source].path;
      if (g.chance(50)) {
        for (std::uint64_t d = 0, n = 1 + g.below(3); d < n; ++d) r.destinations.push_back(random_cidr(g, v4_bases, v6_bases));
      }
      if (g.chance(40)) r.ports = random_ports(g);
    } else if (kind == Kind::glob) {
      source = g.below(w.programs.size());
      const Program& p = w.programs[source];
      const std::uint64_t form = g.below(100);
      if (form < 25) {
        r.app = p.dir + "*";
      } else if (form < 45) {
        r.app = p.dir + "**";
      } else if (form < 65) {
        r.app = "**" + std::string(1, p.sep) + p.name;
      } else if (form < 85) {
        // A user-profile style glob: one component wild in the middle.
        const std::size_t second = p.dir.find(p.sep, p.dir.find(p.sep) + 1);  // after "/home" or "C:\Users"
        const std::size_t third = p.dir.find(p.sep, second + 1);
        if (third != std::string::npos && third + 1 < p.dir.size()) {
          r.app = p.dir.substr(0, second + 1) + "*" + p.dir.substr(third) + (g.chance(50) ? p.name : "**");
        } else {
          r.app = p.dir + "*";
        }
      } else {
        r.app = p.dir + p.name.substr(0, std::min<std::size_t>(p.name.size(), 3)) + "*";
      }
      if (g.chance(30)) r.destinations.push_back(random_cidr(g, v4_bases, v6_bases));
      if (g.chance(30)) r.ports = random_ports(g);
    } else {
      r.app = "**";
      for (std::uint64_t d = 0, n = g.chance(80) ? 1 : 2; d < n; ++d) {
        r.destinations.push_back(random_cidr(g, v4_bases, v6_bases));
      }
      if (g.chance(50)) r.ports = random_ports(g);
    }
    w.kind_by_id[r.id] = kind;
    w.rule_kind.push_back(kind);
    w.rule_program.push_back(source);
    w.rules.push_back(std::move(r));
  }

  // Flows.
  std::vector<std::size_t> by_kind[3];
  for (std::size_t i = 0; i < body; ++i) by_kind[static_cast<int>(w.rule_kind[i])].push_back(i);
  auto some_destination = [&](const Rule* r) {
    if (r && !r->destinations.empty() && g.chance(80)) return g.inside(r->destinations[g.below(r->destinations.size())]);
    if (g.chance(70)) return g.inside(random_cidr(g, v4_bases, v6_bases));
    IpAddress a;
    for (auto& b : a.bytes) b = static_cast<std::uint8_t>(g.next());
    return a;
  };
  auto some_port = [&](const Rule* r) -> std::uint16_t {
    if (r && !r->ports.empty() && g.chance(80)) {
      const PortRange& p = r->ports[g.below(r->ports.size())];
      return static_cast<std::uint16_t>(p.first + g.below(static_cast<std::uint64_t>(p.last - p.first) + 1));
    }
    static const std::uint16_t common[] = {443, 443, 443, 80, 53, 22, 8080, 3389};
    return g.chance(60) ? common[g.below(sizeof(common) / sizeof(common[0]))]
                        : static_cast<std::uint16_t>(1 + g.below(65535));
  };
  for (std::size_t i = 0; i < o.flows; ++i) {
    FlowKey f;
    const std::uint64_t pick = g.below(100);
    const Rule* target = nullptr;
    if (pick < 45) {  // a program with exact rules, aimed at one of them
      target = &w.rules[by_kind[0][g.below(by_kind[0].size())]];
      f.app = target->app;
    } else if (pick < 60) {  // a program only a glob names
      const std::size_t n = by_kind[1][g.below(by_kind[1].size())];
      target = &w.rules[n];
      f.app = path_matching_glob(g, target->app, w.programs[w.rule_program[n]]);
    } else if (pick < 85) {  // an unknown program talking to an any-app rule's network
      target = &w.rules[by_kind[2][g.below(by_kind[2].size())]];
      f.app = "/usr/local/bin/" + g.word();
    } else {  // anything at all
      f.app = g.chance(50) ? "/usr/local/bin/" + g.word() : "C:\\Tools\\" + g.word() + ".exe";
    }
    f.destination = some_destination(target);
    f.port = some_port(target);
    f.protocol = target && target->protocol == Protocol::udp ? Protocol::udp
                 : g.chance(85)                               ? Protocol::tcp
                                                              : Protocol::udp;
    if (target && target->user && g.chance(80)) {
      f.user_ids = {*target->user, "someone"};
    } else {
      f.user_ids = {std::to_string(1000 + g.below(20)), "user" + std::to_string(g.below(20))};
    }
    w.flows.push_back(std::move(f));
  }
  return w;
}

// ---------------------------------------------------------------------------------
// Timing.

struct ClockInfo {
  double resolution_ns;  // smallest non-zero step between two readings
  double overhead_ns;    // median cost of one reading
};

ClockInfo probe_clock() {
  std::vector<double> steps;
  double smallest = 1e18;
  for (int i = 0; i < 20000; ++i) {
    const auto a = Clock::now();
    auto b = Clock::now();
    while (b == a) b = Clock::now();
    const double ns = std::chrono::duration<double, std::nano>(b - a).count();
    smallest = std::min(smallest, ns);
    steps.push_back(ns);
  }
  std::nth_element(steps.begin(), steps.begin() + static_cast<std::ptrdiff_t>(steps.size() / 2), steps.end());
  return ClockInfo{smallest, steps[steps.size() / 2]};
}

std::atomic<std::int64_t> g_sink{0};

// Per-decision latencies in microseconds for `flows[indices]`, each call timed alone,
// or (batch = 16) 16 calls at a time divided by 16.
template <typename Matcher>
std::vector<double> measure(const Matcher& m, const std::vector<FlowKey>& flows, const std::vector<std::size_t>& indices,
                            std::size_t batch) {
  std::vector<double> us;
  us.reserve(indices.size());
  std::int64_t sink = 0;
  if (batch <= 1) {
    for (std::size_t i : indices) {
      const auto t0 = Clock::now();
      const std::optional<Decision> d = m.decide(flows[i]);
      const auto t1 = Clock::now();
      sink += d ? *d->rule_id : 0;
      us.push_back(std::chrono::duration<double, std::micro>(t1 - t0).count());
    }
  } else {
    for (std::size_t k = 0; k + batch <= indices.size(); k += batch) {
      const auto t0 = Clock::now();
      for (std::size_t j = 0; j < batch; ++j) {
        const std::optional<Decision> d = m.decide(flows[indices[k + j]]);
        sink += d ? *d->rule_id : 0;
      }
      const auto t1 = Clock::now();
      const double each = std::chrono::duration<double, std::micro>(t1 - t0).count() / static_cast<double>(batch);
      for (std::size_t j = 0; j < batch; ++j) us.push_back(each);
    }
  }
  g_sink += sink;
  return us;
}

struct Stats {
  double p50 = 0, p99 = 0, mean = 0, max = 0;
};

Stats stats(std::vector<double> v) {
  Stats s;
  if (v.empty()) return s;
  std::sort(v.begin(), v.end());
  auto at = [&](double q) {
    const std::size_t rank = static_cast<std::size_t>(q * static_cast<double>(v.size()) + 0.999999);
    return v[std::min(v.size() - 1, rank == 0 ? 0 : rank - 1)];
  };
  s.p50 = at(0.50);
  s.p99 = at(0.99);
  double sum = 0;
  for (double x : v) sum += x;
  s.mean = sum / static_cast<double>(v.size());
  s.max = v.back();
  return s;
}

double ms_since(Clock::time_point start) {
  return std::chrono::duration<double, std::milli>(Clock::now() - start).count();
}

bool same(const std::optional<Decision>& a, const std::optional<Decision>& b) {
  if (a.has_value() != b.has_value()) return false;
  return !a || (a->rule_id == b->rule_id && a->action == b->action && a->rate == b->rate);
}

}  // namespace

int main(int argc, char** argv) {
  const Options o = parse_options(argc, argv);
  const MatcherOptions matcher_options{o.case_insensitive};

  auto start = Clock::now();
  const World w = make_world(o);
  const double generate_ms = ms_since(start);
  std::size_t enabled = 0, counts[3] = {0, 0, 0};
  for (std::size_t i = 0; i < w.rules.size(); ++i) {
    enabled += w.rules[i].enabled ? 1 : 0;
    ++counts[static_cast<int>(w.rule_kind[i])];
  }
  std::printf("matcher_bench: %zu rules (%zu enabled; %zu exact-app over %zu programs, %zu glob, %zu any-app), "
              "%zu flows, seed %" PRIu64 ", %s paths (generated in %.0f ms)\n",
              w.rules.size(), enabled, counts[0], w.programs.size(), counts[1], counts[2], w.flows.size(), o.seed,
              o.case_insensitive ? "case-insensitive" : "case-sensitive", generate_ms);

  start = Clock::now();
  const CompiledMatcher compiled(w.rules, matcher_options);
  const double compiled_build_ms = ms_since(start);
  start = Clock::now();
  const LinearMatcher linear(w.rules, matcher_options);
  const double linear_build_ms = ms_since(start);
  std::printf("build: compiled %.1f ms (index ~%.1f MiB), linear %.1f ms\n", compiled_build_ms,
              static_cast<double>(compiled.memory_bytes()) / (1024.0 * 1024.0), linear_build_ms);
  if (compiled.rule_count() != linear.rule_count()) {
    std::printf("FAIL: rule counts differ (%zu vs %zu)\n", compiled.rule_count(), linear.rule_count());
    return 1;
  }

  // Agreement on every flow, in parallel (decide() is thread-safe).
  const unsigned threads = o.threads != 0 ? o.threads : std::max(1u, std::thread::hardware_concurrency());
  std::vector<std::optional<Decision>> reference(w.flows.size());
  std::atomic<std::size_t> mismatches{0}, checked{0};
  const std::size_t check_stride =
      o.check_flows == 0 || o.check_flows >= w.flows.size() ? 1 : w.flows.size() / o.check_flows;
  start = Clock::now();
  {
    std::vector<std::thread> pool;
    for (unsigned t = 0; t < threads; ++t) {
      pool.emplace_back([&, t] {
        for (std::size_t i = t; i < w.flows.size(); i += threads) {
          reference[i] = compiled.decide(w.flows[i]);
          if (i % check_stride != 0) continue;
          checked.fetch_add(1);
          if (!same(linear.decide(w.flows[i]), reference[i])) {
            if (mismatches.fetch_add(1) < 5) {
              std::printf("MISMATCH flow %zu: app '%s' dest %s port %u\n", i, w.flows[i].app.c_str(),
                          sluice::net::format_ip(w.flows[i].destination).c_str(), w.flows[i].port);
            }
          }
        }
      });
    }
    for (auto& thread : pool) thread.join();
  }
  const double check_s = ms_since(start) / 1000.0;
  if (mismatches != 0) {
    std::printf("FAIL: compiled and linear matchers disagree on %zu of %zu flows\n", mismatches.load(),
                w.flows.size());
    return 1;
  }
  std::size_t decided[4] = {0, 0, 0, 0};
  std::vector<Kind> flow_kind(w.flows.size(), Kind::none);
  for (std::size_t i = 0; i < w.flows.size(); ++i) {
    if (reference[i]) flow_kind[i] = w.kind_by_id.at(*reference[i]->rule_id);
    ++decided[static_cast<int>(flow_kind[i])];
  }
  if (checked == w.flows.size()) {
    std::printf("agreement: all %zu flows decided identically (checked on %u threads in %.1f s); decided by ",
                w.flows.size(), threads, check_s);
  } else {
    std::printf("agreement: %zu of %zu flows (every %zuth) decided identically (checked on %u threads in %.1f s); "
                "decided by ",
                checked.load(), w.flows.size(), check_stride, threads, check_s);
  }
  for (int k = 0; k < 4; ++k) {
    std::printf("%s%s %.1f%%", k ? ", " : "", kind_name(static_cast<Kind>(k)),
                100.0 * static_cast<double>(decided[k]) / static_cast<double>(w.flows.size()));
  }
  std::printf("\n");

  // Timing method.
  const ClockInfo clock = probe_clock();
  const std::size_t batch = clock.resolution_ns > 100.0 ? 16 : 1;
  if (batch == 1) {
    std::printf("timing: each decide() timed alone with steady_clock (resolution %.0f ns; the ~%.0f ns cost of a "
                "clock reading is included, not subtracted)\n",
                clock.resolution_ns, clock.overhead_ns);
  } else {
    std::printf("timing: steady_clock resolution is %.0f ns, so batches of 16 decide() calls are timed and divided "
                "by 16\n",
                clock.resolution_ns);
  }

  std::vector<std::size_t> all(w.flows.size());
  for (std::size_t i = 0; i < all.size(); ++i) all[i] = i;
  std::vector<std::size_t> subset;
  const std::size_t stride = std::max<std::size_t>(1, w.flows.size() / o.linear_flows);
  for (std::size_t i = 0; i < w.flows.size() && subset.size() < o.linear_flows; i += stride) subset.push_back(i);

  measure(compiled, w.flows, all, batch);  // warm-up pass
  const std::vector<double> compiled_us = measure(compiled, w.flows, all, batch);
  const std::vector<double> linear_us = measure(linear, w.flows, subset, batch);
  const Stats c = stats(compiled_us);
  const Stats l = stats(linear_us);
  // The compiled matcher on the same subset, for a like-for-like comparison.
  std::vector<double> compiled_subset_us;
  for (std::size_t i : subset) compiled_subset_us.push_back(compiled_us[i]);
  const Stats cs = stats(compiled_subset_us);

  std::printf("linear matcher measured on a %zu-flow subset (every %zuth flow) to bound its run time\n", subset.size(),
              stride);
  std::printf("\n%-34s %10s %10s %10s %10s\n", "per-decision latency (us)", "p50", "p99", "mean", "max");
  std::printf("%-34s %10.3f %10.3f %10.3f %10.2f\n", ("compiled, all " + std::to_string(all.size()) + " flows").c_str(),
              c.p50, c.p99, c.mean, c.max);
  std::printf("%-34s %10.3f %10.3f %10.3f %10.2f\n",
              ("compiled, the " + std::to_string(subset.size()) + "-flow subset").c_str(), cs.p50, cs.p99, cs.mean,
              cs.max);
  std::printf("%-34s %10.1f %10.1f %10.1f %10.1f\n",
              ("linear, the " + std::to_string(subset.size()) + "-flow subset").c_str(), l.p50, l.p99, l.mean, l.max);
  for (int k = 0; k < 4; ++k) {
    std::vector<double> part;
    for (std::size_t i = 0; i < all.size(); ++i) {
      if (flow_kind[i] == static_cast<Kind>(k)) part.push_back(compiled_us[i]);
    }
    const Stats s = stats(part);
    std::printf("%-34s %10.3f %10.3f %10.3f %10.2f\n", ("  compiled, decided by " + std::string(kind_name(static_cast<Kind>(k)))).c_str(),
                s.p50, s.p99, s.mean, s.max);
  }
  std::printf("\n");
  std::printf("matcher p50 (%zu rules): compiled %.3f us, linear %.1f us, ratio %.2g\n", w.rules.size(), c.p50, l.p50,
              c.p50 / l.p50);
  std::printf("matcher p99 (%zu rules): compiled %.3f us, linear %.1f us, ratio %.2g\n", w.rules.size(), c.p99, l.p99,
              c.p99 / l.p99);
  std::printf("matcher mean (%zu rules): compiled %.3f us, linear %.1f us, ratio %.2g\n", w.rules.size(), c.mean,
              l.mean, c.mean / l.mean);
  std::printf("compiled matcher build: %.1f ms for %zu rules\n", compiled_build_ms, w.rules.size());

  if (!o.json.empty()) {
    std::ofstream out(o.json);
    if (!out) {
      std::fprintf(stderr, "matcher_bench: cannot write %s\n", o.json.c_str());
      return 2;
    }
    char line[512];
    auto entry = [&](const char* name, double value, double baseline) {
      std::snprintf(line, sizeof line,
                    "  {\"name\": \"%s\", \"value\": %.6g, \"unit\": \"us\", \"baseline\": %.6g, \"ratio\": %.6g},\n",
                    name, value, baseline, value / baseline);
      out << line;
    };
    out << "[\n";
    entry("matcher.decide.p50", c.p50, l.p50);
    entry("matcher.decide.p99", c.p99, l.p99);
    entry("matcher.decide.mean", c.mean, l.mean);
    std::snprintf(line, sizeof line, "  {\"name\": \"matcher.build\", \"value\": %.6g, \"unit\": \"ms\"},\n",
                  compiled_build_ms);
    out << line;
    std::snprintf(line, sizeof line, "  {\"name\": \"matcher.rules\", \"value\": %zu, \"unit\": \"rules\"}\n",
                  w.rules.size());
    out << line << "]\n";
    if (!out.flush()) {
      std::fprintf(stderr, "matcher_bench: cannot write %s\n", o.json.c_str());
      return 2;
    }
    std::printf("wrote %s\n", o.json.c_str());
  }
  return 0;
}
