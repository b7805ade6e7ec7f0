#include "service/flows/policy_snapshot.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <cctype>
#include <unordered_set>

namespace sluice::service {

PublishedPolicy::PublishedPolicy(store::PolicyStore& store, policy::MatcherOptions options) : store_(store), options_(options) {
  reload();
}

std::string PublishedPolicy::quota_key(const std::string& app) const {
  if (!options_.case_insensitive_paths) return app;
  std::string folded = app;
  std::transform(folded.begin(), folded.end(), folded.begin(), [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return folded;
}

void PublishedPolicy::reload() {
  std::lock_guard lock(reload_mutex_);
  const auto started = std::chrono::steady_clock::now();
  std::vector<policy::Rule> rules = store_.rules();
  policy::CompiledMatcher matcher(rules, options_);
  auto settings = store_.settings();
  std::map<std::string, policy::Quota> quotas;
  std::optional<policy::Quota> global;
  for (auto& quota : store_.quotas()) {
    if (quota.global) global = quota;
    else quotas.emplace(quota_key(quota.app), std::move(quota));
  }
  auto snapshot = std::make_shared<PolicySnapshot>(PolicySnapshot{
      ++generation_, std::move(rules), std::move(matcher),
      policy::parse_action(settings["default_action"]).value_or(policy::Action::direct), std::move(settings),
      std::move(quotas), std::move(global)});
  const auto elapsed = std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - started);
  SPDLOG_INFO("policy generation {}: {} rules, {} quotas, compiled in {} ms", snapshot->generation, snapshot->rules.size(),
              snapshot->quotas.size() + (snapshot->global_quota ? 1 : 0), elapsed.count());
  {
    // Ids are never reused, so only removed rules' counts are dropped here.
    std::unordered_set<std::int64_t> ids;
    for (const auto& r : snapshot->rules) ids.insert(r.id);
    std::lock_guard hits_lock(hits_mutex_);
    std::erase_if(hits_, [&](const auto& entry) { return !ids.count(entry.first); });
  }
  snapshot_.store(std::move(snapshot), std::memory_order_release);
}

void PublishedPolicy::count_hit(std::int64_t rule_id) {
  std::lock_guard lock(hits_mutex_);
  ++hits_[rule_id];
}

std::uint64_t PublishedPolicy::hits(std::int64_t rule_id) const {
  std::lock_guard lock(hits_mutex_);
  auto it = hits_.find(rule_id);
  return it == hits_.end() ? 0 : it->second;
}

Verdict PublishedPolicy::decide(const policy::FlowKey& flow) const {
  auto current = snapshot();
  if (auto decision = current->matcher.decide(flow)) return Verdict{decision->action, decision->rule_id, decision->rate};
  return Verdict{current->default_action, std::nullopt, {}};
}

std::optional<policy::Quota> PublishedPolicy::quota_for(const std::string& app) const {
  auto current = snapshot();
  auto it = current->quotas.find(quota_key(app));
  if (it == current->quotas.end()) return std::nullopt;
  return it->second;
}

}  // namespace sluice::service
