// The two matchers of matcher.h: LinearMatcher, the definition applied rule by rule,
// and CompiledMatcher, which sorts the enabled rules into the indexes of
// matcher_index.h by how their app is written (exact path, glob, "**") and, to decide
// a flow, checks only the rules those indexes find for its path and destination.

#include "service/policy/matcher.h"

#include <algorithm>
#include <cstdint>
#include <string>
#include <string_view>
#include <utility>

#include "service/policy/address.h"
#include "service/policy/glob.h"
#include "service/policy/matcher_index.h"

namespace sluice::policy {
namespace {

bool equal_text(std::string_view a, std::string_view b, bool case_insensitive) {
  if (a.size() != b.size()) return false;
  if (!case_insensitive) return a == b;
  for (std::size_t i = 0; i < a.size(); ++i) {
    if (fold_ascii(a[i]) != fold_ascii(b[i])) return false;
  }
  return true;
}

std::string folded(std::string_view text, bool fold) {
  std::string out(text);
  if (fold) {
    for (char& c : out) c = fold_ascii(c);
  }
  return out;
}

bool protocol_matches(Protocol rule, Protocol flow) { return rule == Protocol::any || rule == flow; }

// "**", "***"...: every path.
bool is_any_app(std::string_view app) {
  return app.size() >= 2 && app.find_first_not_of('*') == std::string_view::npos;
}

// Enabled rules, stable-sorted by position.
std::vector<const Rule*> evaluation_order(const std::vector<Rule>& rules) {
  std::vector<const Rule*> order;
  order.reserve(rules.size());
  for (const Rule& rule : rules) {
    if (rule.enabled) order.push_back(&rule);
  }
  std::stable_sort(order.begin(), order.end(),
                   [](const Rule* a, const Rule* b) { return a->position < b->position; });
  return order;
}

// The definition, with `glob` = is_glob(rule.app) precomputed by the caller.
bool matches(const Rule& rule, bool glob, const FlowKey& flow, bool ci) {
  if (!(glob ? glob_match(rule.app, flow.app, ci) : equal_text(rule.app, flow.app, ci))) return false;
  if (!protocol_matches(rule.protocol, flow.protocol)) return false;
  if (!rule.ports.empty() &&
      std::none_of(rule.ports.begin(), rule.ports.end(), [&](const PortRange& r) { return contains(r, flow.port); })) {
    return false;
  }
  if (rule.user && std::none_of(flow.user_ids.begin(), flow.user_ids.end(),
                                [&](const std::string& id) { return equal_text(*rule.user, id, ci); })) {
    return false;
  }
  return rule.destinations.empty() ||
         std::any_of(rule.destinations.begin(), rule.destinations.end(),
                     [&](const Cidr& c) { return contains(c, flow.destination); });
}

}  // namespace

bool rule_matches(const Rule& rule, const FlowKey& flow, const MatcherOptions& options) {
  return matches(rule, is_glob(rule.app), flow, options.case_insensitive_paths);
}

// ---------------------------------------------------------------------------------

LinearMatcher::LinearMatcher(const std::vector<Rule>& rules, MatcherOptions options) : options_(options) {
  for (const Rule* rule : evaluation_order(rules)) {
    rules_.push_back(*rule);
    glob_.push_back(is_glob(rule->app) ? 1 : 0);
  }
}

std::optional<Decision> LinearMatcher::decide(const FlowKey& flow) const {
  for (std::size_t i = 0; i < rules_.size(); ++i) {
    const Rule& rule = rules_[i];
    if (matches(rule, glob_[i] != 0, flow, options_.case_insensitive_paths)) {
      return Decision{rule.action, rule.id, rule.rate};
    }
  }
  return std::nullopt;
}

std::size_t LinearMatcher::rule_count() const { return rules_.size(); }

// ---------------------------------------------------------------------------------

namespace {

// The prefix-trie key of a glob: its literal prefix, continued through every single
// "*" that is directly followed by a separator (as kComponent), up to the first other
// wildcard. `literal_chars` counts the key's literal characters.
std::string prefix_key(std::string_view pattern, bool fold, std::size_t& literal_chars) {
  std::string key;
  literal_chars = 0;
  for (std::size_t i = 0; i < pattern.size(); ++i) {
    const char c = pattern[i];
    if (c == '?') break;
    if (c == '*') {
      const bool single = (i == 0 || pattern[i - 1] != '*') && (i + 1 < pattern.size() && pattern[i + 1] != '*');
      if (!single || !is_path_separator(pattern[i + 1])) break;
      key += matcher_index::kComponent;
      continue;
    }
    key += fold ? fold_ascii(c) : c;
    ++literal_chars;
  }
  return key;
}

}  // namespace

struct CompiledMatcher::Index {
  using Span = matcher_index::Span;
  static constexpr std::uint32_t kNone = matcher_index::kNone;

  // A rule as the index keeps it: what is left to check once an index found it.
  struct CompiledRule {
    std::int64_t id = 0;
    Rates rate;
    Action action = Action::direct;
    Protocol protocol = Protocol::any;
    bool has_user = false;
    std::uint32_t prefix_length = 0;  // glob apps: literal prefix and suffix of `app`
    std::uint32_t suffix_length = 0;
    std::uint32_t dest_begin = 0, dest_end = 0;  // into Index::cidrs
    std::uint32_t port_begin = 0, port_end = 0;  // into Index::ports
    std::string app;   // glob apps only (exact ones live in the path table)
    std::string user;  // folded when case-insensitive
  };

  bool fold = false;
  std::vector<CompiledRule> rules;  // enabled, in position order
  std::vector<Cidr> cidrs;
  std::vector<PortRange> ports;
  std::vector<std::uint32_t> lists;  // every Span points in here
  matcher_index::PathTable exact;    // exact app path -> rules
  matcher_index::StringTrie glob_prefixes;  // globs by literal prefix
  matcher_index::StringTrie glob_suffixes;  // globs by literal suffix (reversed), when longer
  Span unindexed_globs;                     // globs with neither ("*", "?*", "**/*"...)
  matcher_index::AddressTrie any_app;       // app "**" rules by destination

  bool common_match(const CompiledRule& r, const FlowKey& flow) const {
    if (!protocol_matches(r.protocol, flow.protocol)) return false;
    if (r.port_begin != r.port_end) {
      bool hit = false;
      for (std::uint32_t i = r.port_begin; i < r.port_end && !hit; ++i) hit = contains(ports[i], flow.port);
      if (!hit) return false;
    }
    if (r.has_user) {
      bool hit = false;
      for (const std::string& id : flow.user_ids) {
        if (matcher_index::equal_key(r.user, id, fold)) {
          hit = true;
          break;
        }
      }
      if (!hit) return false;
    }
    return true;
  }

  bool destination_match(const CompiledRule& r, const net::IpAddress& destination) const {
    if (r.dest_begin == r.dest_end) return true;
    for (std::uint32_t i = r.dest_begin; i < r.dest_end; ++i) {
      if (contains(cidrs[i], destination)) return true;
    }
    return false;
  }

  bool glob_app_match(const CompiledRule& r, std::string_view path) const {
    const std::size_t pre = r.prefix_length, suf = r.suffix_length;
    if (path.size() < pre + suf) return false;
    const std::string_view pattern = r.app;
    if (!equal_text(pattern.substr(0, pre), path.substr(0, pre), fold)) return false;
    if (!equal_text(pattern.substr(pattern.size() - suf), path.substr(path.size() - suf), fold)) return false;
    // Literal ends are anchored, so only the middles need the glob.
    return glob_match(pattern.substr(pre, pattern.size() - pre - suf), path.substr(pre, path.size() - pre - suf),
                      fold);
  }
};

CompiledMatcher::CompiledMatcher(const std::vector<Rule>& rules, MatcherOptions options) {
  auto index = std::make_shared<Index>();
  Index& x = *index;
  x.fold = options.case_insensitive_paths;
  const std::vector<const Rule*> order = evaluation_order(rules);
  x.rules.reserve(order.size());

  std::vector<std::pair<std::string, std::uint32_t>> exact_entries, prefix_entries, suffix_entries;
  std::vector<std::pair<Cidr, std::uint32_t>> address_entries;
  std::vector<std::uint32_t> unindexed;

  for (const Rule* rule : order) {
    const auto n = static_cast<std::uint32_t>(x.rules.size());
    Index::CompiledRule r;
    r.id = rule->id;
    r.rate = rule->rate;
    r.action = rule->action;
    r.protocol = rule->protocol;
    r.has_user = rule->user.has_value();
    if (rule->user) r.user = folded(*rule->user, x.fold);
    r.dest_begin = static_cast<std::uint32_t>(x.cidrs.size());
    for (const Cidr& c : rule->destinations) {
      // Normalized, so the trie and contains() agree even on unmasked input.
      const int length = std::clamp(c.prefix_length, 0, 128);
      x.cidrs.push_back(Cidr{mask_address(c.network, length), length});
    }
    r.dest_end = static_cast<std::uint32_t>(x.cidrs.size());
    r.port_begin = static_cast<std::uint32_t>(x.ports.size());
    x.ports.insert(x.ports.end(), rule->ports.begin(), rule->ports.end());
    r.port_end = static_cast<std::uint32_t>(x.ports.size());

    const std::string& app = rule->app;
    if (is_any_app(app)) {
      if (rule->destinations.empty()) {
        address_entries.emplace_back(Cidr{}, n);
      } else {
        for (std::uint32_t i = r.dest_begin; i < r.dest_end; ++i) address_entries.emplace_back(x.cidrs[i], n);
      }
    } else if (is_glob(app)) {
      const std::string_view prefix = literal_prefix(app);
      const std::string_view suffix = literal_suffix(app);
      r.app = app;
      r.prefix_length = static_cast<std::uint32_t>(prefix.size());
      r.suffix_length = static_cast<std::uint32_t>(suffix.size());
      std::size_t literal_chars = 0;
      std::string key = prefix_key(app, x.fold, literal_chars);
      if ((literal_chars == 0 && suffix.empty()) || app.find(matcher_index::kComponent) != std::string::npos) {
        unindexed.push_back(n);  // nothing to index by (or a NUL that would read as a wildcard)
      } else if (literal_chars >= suffix.size()) {
        prefix_entries.emplace_back(std::move(key), n);
      } else {
        std::string key = folded(suffix, x.fold);
        std::reverse(key.begin(), key.end());
        suffix_entries.emplace_back(std::move(key), n);
      }
    } else {
      exact_entries.emplace_back(folded(app, x.fold), n);
    }
    x.rules.push_back(std::move(r));
  }

  // Exact paths: group the (key, rule) pairs into lists.
  std::sort(exact_entries.begin(), exact_entries.end());
  std::vector<std::pair<std::string, Index::Span>> table;
  for (std::size_t i = 0; i < exact_entries.size();) {
    std::size_t j = i;
    const auto begin = static_cast<std::uint32_t>(x.lists.size());
    while (j < exact_entries.size() && exact_entries[j].first == exact_entries[i].first) {
      x.lists.push_back(exact_entries[j++].second);
    }
    table.emplace_back(std::move(exact_entries[i].first), Index::Span{begin, static_cast<std::uint32_t>(x.lists.size())});
    i = j;
  }
  x.exact.build(std::move(table), x.fold);

  x.glob_prefixes.build(std::move(prefix_entries), x.lists, x.fold, false);
  x.glob_suffixes.build(std::move(suffix_entries), x.lists, x.fold, true);
  x.unindexed_globs.begin = static_cast<std::uint32_t>(x.lists.size());
  x.lists.insert(x.lists.end(), unindexed.begin(), unindexed.end());
  x.unindexed_globs.end = static_cast<std::uint32_t>(x.lists.size());
  x.any_app.build(std::move(address_entries), x.lists);

  x.lists.shrink_to_fit();
  x.cidrs.shrink_to_fit();
  x.ports.shrink_to_fit();
  index_ = std::move(index);
}

std::optional<Decision> CompiledMatcher::decide(const FlowKey& flow) const {
  const Index& x = *index_;
  std::uint32_t best = Index::kNone;
  // Each list is in position order: stop it at the first match or at the first rule
  // that could not beat the best match so far.
  auto scan = [&](Index::Span span, auto&& matches) {
    for (std::uint32_t i = span.begin; i < span.end; ++i) {
      const std::uint32_t n = x.lists[i];
      if (n >= best) return;
      if (matches(x.rules[n])) {
        best = n;
        return;
      }
    }
  };
  auto exact_match = [&](const Index::CompiledRule& r) {
    return x.common_match(r, flow) && x.destination_match(r, flow.destination);
  };
  auto glob_match_ = [&](const Index::CompiledRule& r) {
    return x.common_match(r, flow) && x.destination_match(r, flow.destination) && x.glob_app_match(r, flow.app);
  };
  // In the address trie both the app ("**") and the destination are known to match.
  auto any_app_match = [&](const Index::CompiledRule& r) { return x.common_match(r, flow); };

  scan(x.exact.find(flow.app), exact_match);
  x.glob_prefixes.walk(flow.app, [&](Index::Span s) { scan(s, glob_match_); });
  x.glob_suffixes.walk(flow.app, [&](Index::Span s) { scan(s, glob_match_); });
  scan(x.unindexed_globs, glob_match_);
  x.any_app.walk(flow.destination, [&](Index::Span s) { scan(s, any_app_match); });

  if (best == Index::kNone) return std::nullopt;
  const Index::CompiledRule& r = x.rules[best];
  return Decision{r.action, r.id, r.rate};
}

std::size_t CompiledMatcher::rule_count() const { return index_->rules.size(); }

std::size_t CompiledMatcher::memory_bytes() const {
  const Index& x = *index_;
  std::size_t bytes = sizeof(Index) + x.rules.capacity() * sizeof(Index::CompiledRule);
  for (const Index::CompiledRule& r : x.rules) {
    if (r.app.capacity() > 15) bytes += r.app.capacity() + 1;
    if (r.user.capacity() > 15) bytes += r.user.capacity() + 1;
  }
  bytes += x.cidrs.capacity() * sizeof(Cidr) + x.ports.capacity() * sizeof(PortRange);
  bytes += x.lists.capacity() * sizeof(std::uint32_t);
  bytes += x.exact.memory() + x.glob_prefixes.memory() + x.glob_suffixes.memory() + x.any_app.memory();
  return bytes;
}

}  // namespace sluice::policy