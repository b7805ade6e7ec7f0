#pragma once

// The index structures CompiledMatcher (matcher.cpp) is built from. Each one maps a
// key of the flow to runs of rule indices (Spans) in a list the matcher owns, so
// that deciding a flow visits only the rules that could match it:
//   - PathTable: exact executable path -> rules (open addressing, hashed 8 bytes at a time);
//   - StringTrie: glob rules by literal prefix, or by literal suffix (walked from the end);
//   - AddressTrie: "**" rules by destination CIDR (a binary trie over the 128-bit address).
// Built once, then only read: every const member is safe from many threads at once.
//
// The lookups are here, where the matcher's decide() can inline them (the walks take
// a visitor, so they are templates anyway); the building is in matcher_index.cpp.
//
// In a namespace of its own, not an anonymous one: CompiledMatcher::Index (a member
// with linkage) holds them, and a member's types must have linkage too.

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <limits>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "service/policy/address.h"
#include "service/policy/glob.h"

namespace sluice::policy::matcher_index {

inline constexpr std::uint32_t kNone = std::numeric_limits<std::uint32_t>::max();

// A run of rule indices in the matcher's list, ascending (= position order).
struct Span {
  std::uint32_t begin = 0;
  std::uint32_t end = 0;
};

// A key byte that stands for a glob "*" followed by a separator: such a star must end
// exactly at the path's next separator, so a walk can step over it deterministically
// ("C:\\Users\\*\\AppData\\Local\\Vendor\\**" is indexed by "C:\\Users\\" kComponent
// "\\AppData\\Local\\Vendor\\", not just by "C:\\Users\\"). Executable paths never
// contain NUL, and NUL sorts first among a node's children.
inline constexpr char kComponent = '\0';

// Whether `path` equals `stored`, which is already folded when `fold` (ASCII only).
bool equal_key(std::string_view stored, std::string_view path, bool fold);

// A hash of `path` as it reads folded when `fold`, taken 8 bytes at a time.
std::uint64_t hash_path(std::string_view path, bool fold);

// Open-addressing table: exact executable path -> rule list.
class PathTable {
 public:
  // `entries`: (key folded when `fold`, list); keys unique.
  void build(std::vector<std::pair<std::string, Span>> entries, bool fold);
  // The list of `path`; empty when none.
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
  std::size_t memory() const;

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

// Radix (path-compressed) trie over strings, walked along a path from its start, or
// from its end for a trie of reversed suffixes. Each node holds the rules whose key
// ends exactly there. The children of a node are contiguous and sorted by first byte.
class StringTrie {
 public:
  // `entries`: (key, rule index), keys folded when `fold` and reversed when `reverse`;
  // the rule lists are appended to `lists`.
  void build(std::vector<std::pair<std::string, std::uint32_t>> entries, std::vector<std::uint32_t>& lists,
             bool fold, bool reverse);

  // Calls visit(span) for every node whose key matches a prefix (a suffix when
  // reversed) of `path`.
  template <typename Visit>
  void walk(std::string_view path, Visit&& visit) const {
    if (!nodes_.empty()) walk_from(path, 0, 0, visit);
  }

  std::size_t memory() const;

 private:
  struct Node {
    std::uint32_t label_begin = 0;  // the edge label leading into this node
    std::uint32_t label_length = 0;
    std::uint32_t child_begin = 0;
    std::uint32_t child_count = 0;
    Span rules;
  };

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

  std::vector<Node> nodes_;
  std::string labels_;
  bool fold_ = false;
  bool reverse_ = false;
};

// Binary prefix trie over the 128-bit address, path-compressed: nodes only where a
// CIDR ends or two branches split. Each node holds the rules whose CIDR ends there;
// rules without destinations hang at the root (as ::/0).
class AddressTrie {
 public:
  // `entries`: (CIDR masked to its length, rule index); the rule lists are appended to `lists`.
  void build(std::vector<std::pair<Cidr, std::uint32_t>> entries, std::vector<std::uint32_t>& lists);

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

  std::size_t memory() const;

 private:
  struct Node {
    net::IpAddress key;  // network, masked to `depth`
    int depth = 0;
    std::uint32_t child[2] = {kNone, kNone};
    Span rules;
  };
  std::vector<Node> nodes_;
};

}  // namespace sluice::policy::matcher_index
