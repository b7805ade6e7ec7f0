#pragma once

// The token buckets that meter relayed flows: one per application with a rate quota,
// one per rule with a rate limit (shared by every flow the rule relays), and the
// global cap. Buckets live as long as a flow holds them and follow policy edits:
// when the policy generation changes, every live bucket takes its new rate.
// Volume caps: once an application has used its volume for the period, `throttle`
// turns its bucket down to the throttle rate and `block` refuses its new flows.

#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <string>

#include "service/flows/policy_snapshot.h"
#include "service/relay/flow.h"

namespace sluice::service {

// The global quota's key beside the programs' (their executable paths, never empty).
inline const std::string kGlobalQuotaKey;

class QuotaBuckets {
 public:
  explicit QuotaBuckets(const PublishedPolicy& engine) : engine_(engine) {}

  // The chains for a new flow of `app` decided by `verdict`.
  relay::FlowLimits limits_for(const std::string& app, const Verdict& verdict);

  // The quota keys of the programs over their volume cap now (FlowManager's caps),
  // kGlobalQuotaKey for the machine-wide cap: every other one is not, so a cap lifted
  // or removed stops throttling at once.
  void set_over_volume_keys(std::set<std::string> keys);
  bool over_volume(const std::string& app) const;

  // Re-applies the current policy to every live bucket (called on every sample).
  void refresh();

 private:
  struct Pair {
    std::weak_ptr<relay::TokenBucket> up, down;
  };
  static std::shared_ptr<relay::TokenBucket> bucket(Pair& pair, bool up, std::optional<std::uint64_t> rate,
                                                    std::optional<std::uint64_t> burst);
  // The effective rates of a bucket, its volume state included: `configured` (null:
  // none) throttled when the cap of `key` is over and says throttle.
  policy::Quota effective_quota(const policy::Quota* configured, const std::string& key) const;
  policy::Quota effective_app_quota(const PolicySnapshot& snapshot, const std::string& key) const;
  policy::Quota effective_global_quota(const PolicySnapshot& snapshot) const;
  void apply_locked(const PolicySnapshot& snapshot);

  const PublishedPolicy& engine_;
  mutable std::mutex mutex_;
  std::uint64_t applied_generation_ = 0;
  std::map<std::string, Pair> apps_;         // by quota key (the path, folded on Windows)
  std::map<std::int64_t, Pair> rules_;       // by rule id
  Pair global_;
  std::set<std::string> over_volume_;  // quota keys
};

}  // namespace sluice::service
