#include "service/policy/matcher.h"

#include <algorithm>
#include <cstdint>
#include <cstring>
#include <limits>
#include <string>
#include <string_view>
#include <utility>

#include "service/policy/address.h"
#include "service/policy/glob.h"

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

constexpr std::uint32_t kNone = std::numeric_limits<std::uint32_t>::max();

// A run of rule indices in CompiledMatcher::Index::lists, ascending (= position order).
struct Span {
  std::uint32_t begin = 0;
  std::uint32_t end = 0;
};

// ---------------------------------------------------------------------------------
// Hashing paths 8 bytes at a time, folding ASCII upper case when asked.

std::uint64_t load_word(const char* p, std::size_t n) {
  std::uint64_t word = 0;
  std::memcpy(&word, p, n);  // n <= 8; byte order is irrelevant for hashing
  return word;
}

// 'A'..'Z' -> 'a'..'z' in each byte, other bytes unchanged.
std::uint64_t fold_word(std::uint64_t x) {
  constexpr std::uint64_t k7f = 0x7f7f7f7f7f7f7f7full, k80 = 0x8080808080808080ull;
  constexpr std::uint64_t k01 = 0x0101010101010101ull;
  const std::uint64_t low7 = x & k7f;
  const std::uint64_t ge_a = low7 + k01 * (0x80 - 'A');       // high bit: low7 >= 'A'
  const std::uint64_t gt_z = low7 + k01 * (0x80 - 'Z' - 1);   // high bit: low7 > 'Z'
  const std::uint64_t upper = ge_a & ~gt_z & ~x & k80;        // ASCII (high bit clear) only
  return x | (upper >> 2);                                    // 0x80 >> 2 == 0x20
}

std::uint64_t hash_path(std::string_view path, bool fold) {
  std::uint64_t h = 0x243f6a8885a308d3ull ^ path.size();
  std::size_t i = 0;
  for (; i + 8 <= path.size(); i += 8) {
    std::uint64_t w = load_word(path.data() + i, 8);
    if (fold) w = fold_word(w);
    h = (h ^ w) * 0x9e3779b97f4a7c15ull;
    h ^= h >> 29;
  }
  if (i < path.size()) {
    std::uint64_t w = load_word(path.data() + i, path.size() - i);
    if (fold) w = fold_word(w);
    h = (h ^ w) * 0x9e3779b97f4a7c15ull;
    h ^= h >> 29;
  }
  h *= 0xbf58476d1ce4e5b9ull;
  h ^= h >> 31;
  return h;
}

// `stored` is already folded when `fold`.
bool equal_key(std::string_view stored, std::string_view path, bool fold) {
  if (stored.size() != path.size()) return false;
  if (!fold) return std::memcmp(stored.data(), path.data(), path.size()) == 0;
  for (std::size_t i = 0; i < path.size(); ++i) {
    if (stored[i] != fold_ascii(path[i])) return false;
  }
  return true;
}

// Open-addressing table: exact executable path -> rule list.
class PathTable {
 public:
  // `entries`: (folded-when-fold key, list); keys unique.
  void build(std::vector<std::pair<std::string, Span>> entries, bool fold) {
    fold_ = fold;
    std::size_t capacity = 16;
    while (capacity < entries.size() * 2) capacity *= 2;
    slots_.assign(capacity, Slot{});
    mask_ = capacity - 1;
    std::size_t key_bytes = 0;
    for (const auto& entry : entries) key_bytes += entry.first.size();
    keys_.reserve(key_bytes);
    for (auto& [key, rules] : entries) {
      const std::uint64_t h = hash_path(key, false);  // already folded
      std::size_t slot = static_cast<std::size_t>(h) & mask_;
      while (slots_[slot].rules.end != 0) slot = (slot + 1) & mask_;
      slots_[slot] = Slot{h, static_cast<std::uint32_t>(keys_.size()), static_cast<std::uint32_t>(key.size()), rules};
      keys_ += key;
    }
  }

  Span find(std::string_view path) const {
    if (slots_.empty()) return {};
    const std::uint64_t h = hash_path(path, fold_);
    for (std::size_t slot = static_cast<std::size_t>(h) & mask_;; slot = (slot + 1) & mask_) {
      const Slot& s = slots_[slot];
      if (s.rules.end == 0) return {};
      if (s.hash == h && equal_key(std::string_view(keys_).substr(s.key_begin, s.key_length), path, fold_)) {
        return s.rules;
      }
    }
  }

  std::size_t memory() const { return slots_.capacity() * sizeof(Slot) + keys_.capacity(); }

 private:
  struct Slot {
    std::uint64_t hash = 0;
    std::uint32_t key_begin = 0;
    std::uint32_t key_length = 0;
    Span rules;  // end == 0: an empty slot (a used slot's list is never empty)
  };
  std::vector<Slot> slots_;
  std::string keys_;
  std::size_t mask_ = 0;
  bool fold_ = false;
};

// ---------------------------------------------------------------------------------
// Radix (path-compressed) trie over strings, walked along a path from its start, or
// from its end for a trie of reversed suffixes. Each node holds the rules whose key
// ends exactly there. The children of a node are contiguous and sorted by first byte.
//
// A key byte kComponent stands for a glob "*" that is followed by a separator: such a
// star must end exactly at the path's next separator, so the walk can step over it
// deterministically ("C:\\Users\\*\\AppData\\Local\\Vendor\\**" is indexed by
// "C:\\Users\\" kComponent "\\AppData\\Local\\Vendor\\", not just by "C:\\Users\\").
// Executable paths never contain NUL, and NUL sorts first among the children.

constexpr char kComponent = '\0';

class StringTrie {
 public:
  // `entries`: (key, rule index), keys folded when `fold` and reversed when `reverse`.
  void build(std::vector<std::pair<std::string, std::uint32_t>> entries, std::vector<std::uint32_t>& lists,
             bool fold, bool reverse) {
    fold_ = fold;
    reverse_ = reverse;
    nodes_.clear();
    labels_.clear();
    if (entries.empty()) return;
    std::sort(entries.begin(), entries.end());
    // Unique keys, each with its rule list.
    std::vector<std::string> keys;
    std::vector<Span> spans;
    for (std::size_t i = 0; i < entries.size();) {
      std::size_t j = i;
      const auto begin = static_cast<std::uint32_t>(lists.size());
      while (j < entries.size() && entries[j].first == entries[i].first) lists.push_back(entries[j++].second);
      keys.push_back(std::move(entries[i].first));
      spans.push_back(Span{begin, static_cast<std::uint32_t>(lists.size())});
      i = j;
    }
    struct Work {
      std::uint32_t node;
      std::size_t lo, hi, depth;
    };
    nodes_.push_back(Node{});
    std::vector<Work> work{{0, 0, keys.size(), 0}};
    while (!work.empty()) {
      const Work w = work.back();
      work.pop_back();
      std::size_t lo = w.lo;
      if (keys[lo].size() == w.depth) nodes_[w.node].rules = spans[lo++];
      nodes_[w.node].child_begin = static_cast<std::uint32_t>(nodes_.size());
      std::uint32_t children = 0;
      for (std::size_t g = lo; g < w.hi;) {
        const char c = keys[g][w.depth];
        std::size_t h = g;
        while (h < w.hi && keys[h][w.depth] == c) ++h;
        // Longest common prefix of the group = that of its first and last keys. A
        // wildcard byte only ever starts a label, so the walk sees it first.
        const std::string& first = keys[g];
        const std::string& last = keys[h - 1];
        std::size_t lcp = w.depth + 1;
        while (lcp < first.size() && lcp < last.size() && first[lcp] == last[lcp] && first[lcp] != kComponent) ++lcp;
        Node child;
        child.label_begin = static_cast<std::uint32_t>(labels_.size());
        child.label_length = static_cast<std::uint32_t>(lcp - w.depth);
        labels_.append(first, w.depth, lcp - w.depth);
        const auto index = static_cast<std::uint32_t>(nodes_.size());
        nodes_.push_back(child);
        work.push_back(Work{index, g, h, lcp});
        ++children;
        g = h;
      }
      nodes_[w.node].child_count = children;
    }
  }

  // Calls visit(span) for every node whose key matches a prefix (a suffix when
  // reversed) of `path`.
  template <typename Visit>
  void walk(std::string_view path, Visit&& visit) const {
    if (!nodes_.empty()) walk_from(path, 0, 0, visit);
  }

  std::size_t memory() const { return nodes_.capacity() * sizeof(Node) + labels_.capacity(); }

 private:
  char at(std::string_view path, std::size_t k) const {  // k-th character along the walk
    const char c = reverse_ ? path[path.size() - 1 - k] : path[k];
    return fold_ ? fold_ascii(c) : c;
  }

  // Whether label[from..] equals the path from `consumed`; advances `consumed`.
  bool follow(std::string_view path, const char* label, std::size_t from, std::size_t length,
              std::size_t& consumed) const {
    if (length - from > path.size() - consumed) return false;
    for (std::size_t k = from; k < length; ++k) {
      if (label[k] != at(path, consumed + k - from)) return false;
    }
    consumed += length - from;
    return true;
  }

  template <typename Visit>
  void walk_from(std::string_view path, std::uint32_t index, std::size_t consumed, Visit& visit) const {
    const std::size_t n = path.size();
    while (true) {
      const Node& node = nodes_[index];
      if (node.rules.end != node.rules.begin) visit(node.rules);
      if (node.child_count == 0) return;
      const Node* lo = &nodes_[node.child_begin];
      const Node* hi = lo + node.child_count;
      if (labels_[lo->label_begin] == kComponent) {
        // The star takes the rest of this path component (maybe nothing).
        std::size_t end = consumed;
        while (end < n && !is_path_separator(at(path, end))) ++end;
        if (follow(path, labels_.data() + lo->label_begin, 1, lo->label_length, end)) {
          walk_from(path, static_cast<std::uint32_t>(lo - nodes_.data()), end, visit);
        }
        ++lo;
      }
      if (consumed == n || lo == hi) return;
      const char c = at(path, consumed);
      const Node* child = std::lower_bound(lo, hi, c, [this](const Node& x, char key) {
        return static_cast<unsigned char>(labels_[x.label_begin]) < static_cast<unsigned char>(key);
      });
      if (child == hi || labels_[child->label_begin] != c) return;
      if (!follow(path, labels_.data() + child->label_begin, 0, child->label_length, consumed)) return;
      index = static_cast<std::uint32_t>(child - nodes_.data());
    }
  }

  struct Node {
    std::uint32_t label_begin = 0;  // the edge label leading into this node
    std::uint32_t label_length = 0;
    std::uint32_t child_begin = 0;
    std::uint32_t child_count = 0;
    Span rules;
  };
  std::vector<Node> nodes_;
  std::string labels_;
  bool fold_ = false;
  bool reverse_ = false;
};

// ---------------------------------------------------------------------------------
// Binary prefix trie over the 128-bit address, path-compressed: nodes only where a
// CIDR ends or two branches split. Each node holds the rules whose CIDR ends there;
// rules without destinations hang at the root (as ::/0).

class AddressTrie {
 public:
  void build(std::vector<std::pair<Cidr, std::uint32_t>> entries, std::vector<std::uint32_t>& lists) {
    nodes_.clear();
    nodes_.push_back(Node{});
    if (entries.empty()) return;
    std::sort(entries.begin(), entries.end(), [](const auto& a, const auto& b) {
      if (a.first.network.bytes != b.first.network.bytes) return a.first.network.bytes < b.first.network.bytes;
      if (a.first.prefix_length != b.first.prefix_length) return a.first.prefix_length < b.first.prefix_length;
      return a.second < b.second;
    });
    std::vector<Cidr> cidrs;
    std::vector<Span> spans;
    for (std::size_t i = 0; i < entries.size();) {
      std::size_t j = i;
      const auto begin = static_cast<std::uint32_t>(lists.size());
      while (j < entries.size() && entries[j].first == entries[i].first) lists.push_back(entries[j++].second);
      cidrs.push_back(entries[i].first);
      spans.push_back(Span{begin, static_cast<std::uint32_t>(lists.size())});
      i = j;
    }
    struct Work {
      std::uint32_t node;
      std::size_t lo, hi;
    };
    std::vector<Work> work{{0, 0, cidrs.size()}};
    while (!work.empty()) {
      const Work w = work.back();
      work.pop_back();
      const int depth = nodes_[w.node].depth;
      std::size_t lo = w.lo;
      // All CIDRs here share the node's first `depth` bits and are at least that long;
      // the one ending here (masked, so lowest) sorts first.
      if (cidrs[lo].prefix_length == depth) nodes_[w.node].rules = spans[lo++];
      if (lo == w.hi) continue;
      std::size_t split = lo;
      while (split < w.hi && !address_bit(cidrs[split].network, depth)) ++split;
      const std::size_t bounds[3] = {lo, split, w.hi};
      for (int b = 0; b < 2; ++b) {
        const std::size_t g = bounds[b], h = bounds[b + 1];
        if (g == h) continue;
        int child_depth = common_bits(cidrs[g].network, cidrs[h - 1].network);
        for (std::size_t k = g; k < h; ++k) child_depth = std::min(child_depth, cidrs[k].prefix_length);
        Node child;
        child.depth = child_depth;
        child.key = mask_address(cidrs[g].network, child_depth);
        const auto index = static_cast<std::uint32_t>(nodes_.size());
        nodes_.push_back(child);
        nodes_[w.node].child[b] = index;
        work.push_back(Work{index, g, h});
      }
    }
  }

  // Calls visit(span) for every node whose CIDR contains `address`, shortest first.
  template <typename Visit>
  void walk(const net::IpAddress& address, Visit&& visit) const {
    const Node* node = &nodes_[0];
    while (true) {
      if (node->rules.end != node->rules.begin) visit(node->rules);
      if (node->depth >= 128) return;
      const std::uint32_t next = node->child[address_bit(address, node->depth) ? 1 : 0];
      if (next == kNone) return;
      node = &nodes_[next];
      if (!contains(Cidr{node->key, node->depth}, address)) return;
    }
  }

  std::size_t memory() const { return nodes_.capacity() * sizeof(Node); }

 private:
  static int common_bits(const net::IpAddress& a, const net::IpAddress& b) {
    for (int i = 0; i < 16; ++i) {
      const unsigned x = static_cast<unsigned>(a.bytes[static_cast<std::size_t>(i)] ^ b.bytes[static_cast<std::size_t>(i)]);
      if (x != 0) {
        int bits = 0;
        while ((x & (0x80u >> bits)) == 0) ++bits;
        return 8 * i + bits;
      }
    }
    return 128;
  }

  struct Node {
    net::IpAddress key;  // network, masked to `depth`
    int depth = 0;
    std::uint32_t child[2] = {kNone, kNone};
    Span rules;
  };
  std::vector<Node> nodes_;
};

}  // namespace

// ---------------------------------------------------------------------------------

namespace {

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
      key += kComponent;
      continue;
    }
    key += fold ? fold_ascii(c) : c;
    ++literal_chars;
  }
  return key;
}

}  // namespace

struct CompiledMatcher::Index {
  bool fold = false;
  std::vector<CompiledRule> rules;  // enabled, in position order
  std::vector<Cidr> cidrs;
  std::vector<PortRange> ports;
  std::vector<std::uint32_t> lists;  // every Span points in here
  PathTable exact;                   // exact app path -> rules
  StringTrie glob_prefixes;          // globs by literal prefix
  StringTrie glob_suffixes;          // globs by literal suffix (reversed), when longer
  Span unindexed_globs;              // globs with neither ("*", "?*", "**/*"...)
  AddressTrie any_app;               // app "**" rules by destination

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
        if (equal_key(r.user, id, fold)) {
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
    CompiledRule r;
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
      if ((literal_chars == 0 && suffix.empty()) || app.find(kComponent) != std::string::npos) {
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
  std::vector<std::pair<std::string, Span>> table;
  for (std::size_t i = 0; i < exact_entries.size();) {
    std::size_t j = i;
    const auto begin = static_cast<std::uint32_t>(x.lists.size());
    while (j < exact_entries.size() && exact_entries[j].first == exact_entries[i].first) {
      x.lists.push_back(exact_entries[j++].second);
    }
    table.emplace_back(std::move(exact_entries[i].first), Span{begin, static_cast<std::uint32_t>(x.lists.size())});
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
  std::uint32_t best = kNone;
  // Each list is in position order: stop it at the first match or at the first rule
  // that could not beat the best match so far.
  auto scan = [&](Span span, auto&& matches) {
    for (std::uint32_t i = span.begin; i < span.end; ++i) {
      const std::uint32_t n = x.lists[i];
      if (n >= best) return;
      if (matches(x.rules[n])) {
        best = n;
        return;
      }
    }
  };
  auto exact_match = [&](const CompiledRule& r) {
    return x.common_match(r, flow) && x.destination_match(r, flow.destination);
  };
  auto glob_match_ = [&](const CompiledRule& r) {
    return x.common_match(r, flow) && x.destination_match(r, flow.destination) && x.glob_app_match(r, flow.app);
  };
  // In the address trie both the app ("**") and the destination are known to match.
  auto any_app_match = [&](const CompiledRule& r) { return x.common_match(r, flow); };

  scan(x.exact.find(flow.app), exact_match);
  x.glob_prefixes.walk(flow.app, [&](Span s) { scan(s, glob_match_); });
  x.glob_suffixes.walk(flow.app, [&](Span s) { scan(s, glob_match_); });
  scan(x.unindexed_globs, glob_match_);
  x.any_app.walk(flow.destination, [&](Span s) { scan(s, any_app_match); });

  if (best == kNone) return std::nullopt;
  const CompiledRule& r = x.rules[best];
  return Decision{r.action, r.id, r.rate};
}

std::size_t CompiledMatcher::rule_count() const { return index_->rules.size(); }

std::size_t CompiledMatcher::memory_bytes() const {
  const Index& x = *index_;
  std::size_t bytes = sizeof(Index) + x.rules.capacity() * sizeof(CompiledRule);
  for (const CompiledRule& r : x.rules) {
    if (r.app.capacity() > 15) bytes += r.app.capacity() + 1;
    if (r.user.capacity() > 15) bytes += r.user.capacity() + 1;
  }
  bytes += x.cidrs.capacity() * sizeof(Cidr) + x.ports.capacity() * sizeof(PortRange);
  bytes += x.lists.capacity() * sizeof(std::uint32_t);
  bytes += x.exact.memory() + x.glob_prefixes.memory() + x.glob_suffixes.memory() + x.any_app.memory();
  return bytes;
}

}  // namespace sluice::policy
