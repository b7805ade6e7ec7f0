#pragma once

// Rule matching: which rule decides a new flow.
//
// A rule matches a flow when
//   - its app matches the flow's executable path: an exact comparison, or glob_match
//     when the app is a glob ("**" matches every program);
//   - its user is unset or equal to one of flow.user_ids;
//   - its protocol is `any` or the flow's;
//   - it has no destinations, or one of them contains flow.destination;
//   - it has no port ranges, or one of them contains flow.port.
// Paths and user names compare case-insensitively (ASCII letters) when
// MatcherOptions::case_insensitive_paths is set (Windows). The first enabled rule in
// position order that matches decides; rules of equal position keep their input order.
//
// CompiledMatcher is the one the service uses; LinearMatcher is the obvious scan, kept
// as the reference for tests and the baseline for tests/bench/matcher_bench.

#include <cstddef>
#include <memory>
#include <optional>
#include <vector>

#include "service/policy/rule.h"

namespace sluice::policy {

struct MatcherOptions {
  bool case_insensitive_paths = false;  // true on Windows
};

// Whether `rule` matches `flow` (ignoring `rule.enabled`), per the definition above.
bool rule_matches(const Rule& rule, const FlowKey& flow, const MatcherOptions& options);

// Immutable once built; decide() is safe from many threads at once. Copies are cheap
// and share the compiled index.
class CompiledMatcher {
 public:
  // `rules` in evaluation order (position ascending); disabled rules are ignored.
  CompiledMatcher(const std::vector<Rule>& rules, MatcherOptions options);

  // The first enabled rule (lowest position) that matches the flow, or nullopt.
  std::optional<Decision> decide(const FlowKey& flow) const;

  // The number of enabled rules compiled.
  std::size_t rule_count() const;

  // Approximate heap bytes held by the index (for the benchmark and diagnostics).
  std::size_t memory_bytes() const;

 private:
  struct Index;  // defined in matcher.cpp
  std::shared_ptr<const Index> index_;
};

// The reference: scans the enabled rules in position order.
class LinearMatcher {
 public:
  LinearMatcher(const std::vector<Rule>& rules, MatcherOptions options);
  std::optional<Decision> decide(const FlowKey& flow) const;
  std::size_t rule_count() const;

 private:
  std::vector<Rule> rules_;  // enabled ones, stable-sorted by position
  std::vector<char> glob_;   // is_glob(rules_[i].app)
  MatcherOptions options_;
};

}  // namespace sluice::policy
