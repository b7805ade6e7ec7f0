#include "service/rpc/policy_warnings.h"

#include <algorithm>

#include "common/platform/platform.h"
#include "service/policy/address.h"
#include "service/policy/glob.h"

namespace sluice::service {
namespace {

bool same_path(const std::string& a, const std::string& b, const policy::MatcherOptions& options) {
  if (a.size() != b.size()) return false;
  if (!options.case_insensitive_paths) return a == b;
  for (std::size_t i = 0; i < a.size(); ++i) {
    if (policy::fold_ascii(a[i]) != policy::fold_ascii(b[i])) return false;
  }
  return true;
}

bool app_covers(const std::string& earlier, const std::string& later, const policy::MatcherOptions& options) {
  if (earlier == "**" || same_path(earlier, later, options)) return true;
  return policy::is_glob(earlier) && !policy::is_glob(later) &&
         policy::glob_match(earlier, later, options.case_insensitive_paths);
}

bool cidr_within(const policy::Cidr& inner, const policy::Cidr& outer) {
  return outer.prefix_length <= inner.prefix_length && policy::contains(outer, inner.network);
}

// An empty list means "any": it covers everything; a non-empty one never covers "any".
template <class T, class Within>
bool list_covers(const std::vector<T>& earlier, const std::vector<T>& later, Within within) {
  if (earlier.empty()) return true;
  if (later.empty()) return false;
  return std::all_of(later.begin(), later.end(), [&](const T& item) {
    return std::any_of(earlier.begin(), earlier.end(), [&](const T& outer) { return within(item, outer); });
  });
}

std::string rule_name(const policy::Rule& rule) {
  return rule.id > 0 ? "rule " + std::to_string(rule.id) : "the rule at position " + std::to_string(rule.position);
}

bool any_rate(const policy::Rates& rate) { return rate.up.has_value() || rate.down.has_value(); }

}  // namespace

bool rule_covers(const policy::Rule& earlier, const policy::Rule& later, const policy::MatcherOptions& options) {
  if (!app_covers(earlier.app, later.app, options)) return false;
  if (earlier.user && (!later.user || *earlier.user != *later.user)) return false;
  if (earlier.protocol != policy::Protocol::any && earlier.protocol != later.protocol) return false;
  if (!list_covers(earlier.destinations, later.destinations, cidr_within)) return false;
  return list_covers(earlier.ports, later.ports, [](const policy::PortRange& inner, const policy::PortRange& outer) {
    return outer.first <= inner.first && inner.last <= outer.last;
  });
}

std::vector<std::string> rule_warnings(const policy::Rule& rule, std::size_t index, const std::vector<policy::Rule>& others,
                                       const policy::MatcherOptions& options, const std::string& label) {
  std::vector<std::string> out;
  if (any_rate(rule.rate) && rule.action != policy::Action::relay) {
    out.push_back(label + " has a rate limit, but only relayed flows are rate-limited and its action is " +
                  policy::to_string(rule.action) + ": remove the rate, or make it a relay rule");
  }
  if (rule.user) {
    const platform::UserIdentity user = platform::find_user(*rule.user);
    if (user.uid < 0 && user.account.empty()) {
      out.push_back(label + " names the user '" + *rule.user + "', whom this machine does not know, so it matches no flow: " +
                    "check the name, or give the uid");
    }
  }
  for (const auto& other : others) {
    if (policy::decides_alike(other, rule)) {
      out.push_back(label + " is a duplicate of " + rule_name(other) + " (position " + std::to_string(other.position) +
                    "), which already says the same: it adds nothing");
      return out;  // a duplicate also covers and is covered: one warning says it
    }
  }
  if (!rule.enabled) return out;
  for (std::size_t i = 0; i < others.size() && i < index; ++i) {
    const auto& earlier = others[i];
    if (earlier.enabled && rule_covers(earlier, rule, options)) {
      out.push_back(label + " is shadowed by " + rule_name(earlier) + " (position " + std::to_string(earlier.position) +
                    "), which comes first and matches every flow it would, so it never decides: put it before that rule "
                    "or narrow that rule");
      break;
    }
  }
  for (std::size_t i = index; i < others.size(); ++i) {
    const auto& later = others[i];
    if (later.enabled && rule_covers(rule, later, options)) {
      out.push_back(label + " comes before " + rule_name(later) + " (position " + std::to_string(later.position) +
                    ") and matches every flow that rule would, so that rule would never decide: put this one after it, "
                    "or narrow it");
    }
  }
  return out;
}

std::vector<std::string> quota_warnings(const policy::Quota& quota, const std::vector<policy::Rule>& rules,
                                        policy::Action default_action, const policy::MatcherOptions& options) {
  std::vector<std::string> out;
  if (default_action == policy::Action::relay) return out;
  const bool reached = std::any_of(rules.begin(), rules.end(), [&](const policy::Rule& r) {
    return r.enabled && r.action == policy::Action::relay && (quota.global || app_covers(r.app, quota.app, options));
  });
  if (reached) return out;
  const std::string target = quota.global ? "any program" : "'" + quota.app + "'";
  out.push_back("no enabled relay rule reaches " + target + " and the default action is " + policy::to_string(default_action) +
                ", so this quota limits and counts nothing (only relayed traffic is metered): add a relay rule for " +
                (quota.global ? std::string("the programs to meter") : "'" + quota.app + "'"));
  return out;
}

void refuse_if_strict(const protocol::json& params, const std::vector<std::string>& warnings) {
  if (warnings.empty() || !protocol::optional_param<bool>(params, "strict", false)) return;
  std::string message = "refused (strict): nothing was changed:";
  for (const auto& w : warnings) message += "\n  " + w;
  throw protocol::RpcError(protocol::kConflict, message, protocol::json{{"warnings", warnings}, {"strict", true}});
}

}  // namespace sluice::service
