#pragma once

// The policy as the running service uses it: an immutable snapshot (rules, their
// compiled matcher, quotas, settings) rebuilt from the store after every change and
// published with one atomic pointer swap, so deciding a flow never waits on a writer.

#include <atomic>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include "service/policy/matcher.h"
#include "service/policy/quota.h"
#include "service/store/policy_store.h"

namespace sluice::service {

struct PolicySnapshot {
  std::uint64_t generation = 0;           // increases with every published change
  std::vector<policy::Rule> rules;        // evaluation order
  policy::CompiledMatcher matcher;
  policy::Action default_action = policy::Action::direct;
  std::map<std::string, std::string> settings;
  std::map<std::string, policy::Quota> quotas;  // by application path (folded on Windows)
  std::optional<policy::Quota> global_quota;
};

struct Verdict {
  policy::Action action = policy::Action::direct;
  std::optional<std::int64_t> rule_id;  // nullopt: the default action applied
  policy::Rates rate;
};

// The current snapshot and its publisher: every decision reads the snapshot it finds,
// every change to the store calls reload(). (It decides nothing itself beyond asking
// the snapshot's matcher; the rules' logic is service/policy/.)
class PublishedPolicy {
 public:
  PublishedPolicy(store::PolicyStore& store, policy::MatcherOptions options);

  // Rebuilds the snapshot from the store and publishes it.
  void reload();

  std::shared_ptr<const PolicySnapshot> snapshot() const { return snapshot_.load(std::memory_order_acquire); }

  Verdict decide(const policy::FlowKey& flow) const;

  // The quota that applies to an application, if any.
  std::optional<policy::Quota> quota_for(const std::string& app) const;

  store::PolicyStore& store() { return store_; }
  const policy::MatcherOptions& options() const { return options_; }

  // Per-rule hit counters (rule.list's "hits"): flows whose decision a rule made, counted
  // by flow.register only (policy.check decides without counting). In memory: they start
  // at 0 when sluiced starts, and a removed rule's count goes with the next reload.
  void count_hit(std::int64_t rule_id);
  std::uint64_t hits(std::int64_t rule_id) const;

  // How quotas are keyed: the path itself, case-folded where paths are case-insensitive.
  std::string quota_key(const std::string& app) const;

 private:

  store::PolicyStore& store_;
  policy::MatcherOptions options_;
  std::mutex reload_mutex_;
  std::uint64_t generation_ = 0;
  std::atomic<std::shared_ptr<const PolicySnapshot>> snapshot_;
  mutable std::mutex hits_mutex_;
  std::unordered_map<std::int64_t, std::uint64_t> hits_;
};

}  // namespace sluice::service
