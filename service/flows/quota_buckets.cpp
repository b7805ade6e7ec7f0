#include "service/flows/quota_buckets.h"

#include <algorithm>


namespace sluice::service {

std::shared_ptr<relay::TokenBucket> QuotaBuckets::bucket(Pair& pair, bool up, std::optional<std::uint64_t> rate,
                                                         std::optional<std::uint64_t> burst) {
  if (!rate) return nullptr;
  auto& slot = up ? pair.up : pair.down;
  if (auto live = slot.lock()) {
    live->set_rate(*rate, burst.value_or(0));
    return live;
  }
  auto created = std::make_shared<relay::TokenBucket>(*rate, burst.value_or(0));
  slot = created;
  return created;
}

policy::Quota QuotaBuckets::effective_quota(const policy::Quota* configured, const std::string& key) const {
  return policy::metered_quota(configured ? *configured : policy::Quota{}, over_volume_.count(key) > 0);
}

policy::Quota QuotaBuckets::effective_app_quota(const PolicySnapshot& snapshot, const std::string& key) const {
  auto it = snapshot.quotas.find(key);
  return effective_quota(it == snapshot.quotas.end() ? nullptr : &it->second, key);
}

policy::Quota QuotaBuckets::effective_global_quota(const PolicySnapshot& snapshot) const {
  return effective_quota(snapshot.global_quota ? &*snapshot.global_quota : nullptr, kGlobalQuotaKey);
}

relay::FlowLimits QuotaBuckets::limits_for(const std::string& app, const Verdict& verdict) {
  auto snapshot = engine_.snapshot();
  std::lock_guard lock(mutex_);
  apply_locked(*snapshot);
  relay::FlowLimits limits;
  auto add = [&](Pair& pair, const policy::Rates& rate, const policy::Rates& burst) {
    if (auto b = bucket(pair, true, rate.up, burst.up)) limits.up.push_back(std::move(b));
    if (auto b = bucket(pair, false, rate.down, burst.down)) limits.down.push_back(std::move(b));
  };
  const std::string key = engine_.quota_key(app);
  const policy::Quota quota = effective_app_quota(*snapshot, key);
  add(apps_[key], quota.rate, quota.burst);
  if (verdict.rule_id) {
    add(rules_[*verdict.rule_id], verdict.rate, {});
  }
  const policy::Quota global = effective_global_quota(*snapshot);
  add(global_, global.rate, global.burst);
  return limits;
}

void QuotaBuckets::set_over_volume_keys(std::set<std::string> keys) {
  std::lock_guard lock(mutex_);
  if (over_volume_ == keys) return;
  over_volume_ = std::move(keys);
  applied_generation_ = 0;  // re-apply: these applications' rates change
}

bool QuotaBuckets::over_volume(const std::string& app) const {
  std::lock_guard lock(mutex_);
  return over_volume_.count(engine_.quota_key(app)) > 0;
}

void QuotaBuckets::refresh() {
  auto snapshot = engine_.snapshot();
  std::lock_guard lock(mutex_);
  apply_locked(*snapshot);
}

void QuotaBuckets::apply_locked(const PolicySnapshot& snapshot) {
  if (snapshot.generation == applied_generation_) return;
  applied_generation_ = snapshot.generation;

  auto update = [&](Pair& pair, const policy::Rates& rate, const policy::Rates& burst) {
    if (auto b = pair.up.lock()) b->set_rate(rate.up.value_or(policy::kUnlimitedRate), burst.up.value_or(0));
    if (auto b = pair.down.lock()) b->set_rate(rate.down.value_or(policy::kUnlimitedRate), burst.down.value_or(0));
  };
  for (auto it = apps_.begin(); it != apps_.end();) {
    if (it->second.up.expired() && it->second.down.expired()) {
      it = apps_.erase(it);
      continue;
    }
    const policy::Quota quota = effective_app_quota(snapshot, it->first);
    update(it->second, quota.rate, quota.burst);
    ++it;
  }
  for (auto it = rules_.begin(); it != rules_.end();) {
    if (it->second.up.expired() && it->second.down.expired()) {
      it = rules_.erase(it);
      continue;
    }
    policy::Rates rate;
    auto rule = std::find_if(snapshot.rules.begin(), snapshot.rules.end(), [&](const policy::Rule& r) { return r.id == it->first; });
    if (rule != snapshot.rules.end()) rate = rule->rate;
    update(it->second, rate, {});
    ++it;
  }
  const policy::Quota global = effective_global_quota(snapshot);
  update(global_, global.rate, global.burst);
}

}  // namespace sluice::service
