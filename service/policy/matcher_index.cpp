// Building the matcher's indexes (matcher_index.h), and the path hash and comparison
// their lookups use.

#include "service/policy/matcher_index.h"

#include <algorithm>
#include <cstring>

namespace sluice::policy::matcher_index {
namespace {

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

// The number of leading bits `a` and `b` share.
int common_bits(const net::IpAddress& a, const net::IpAddress& b) {
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

}  // namespace

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

bool equal_key(std::string_view stored, std::string_view path, bool fold) {
  if (stored.size() != path.size()) return false;
  if (!fold) return std::memcmp(stored.data(), path.data(), path.size()) == 0;
  for (std::size_t i = 0; i < path.size(); ++i) {
    if (stored[i] != fold_ascii(path[i])) return false;
  }
  return true;
}

// ---------------------------------------------------------------------------------

void PathTable::build(std::vector<std::pair<std::string, Span>> entries, bool fold) {
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

std::size_t PathTable::memory() const { return slots_.capacity() * sizeof(Slot) + keys_.capacity(); }

// ---------------------------------------------------------------------------------

void StringTrie::build(std::vector<std::pair<std::string, std::uint32_t>> entries, std::vector<std::uint32_t>& lists,
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

std::size_t StringTrie::memory() const { return nodes_.capacity() * sizeof(Node) + labels_.capacity(); }

// ---------------------------------------------------------------------------------

void AddressTrie::build(std::vector<std::pair<Cidr, std::uint32_t>> entries, std::vector<std::uint32_t>& lists) {
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

std::size_t AddressTrie::memory() const { return nodes_.capacity() * sizeof(Node); }

}  // namespace sluice::policy::matcher_index
