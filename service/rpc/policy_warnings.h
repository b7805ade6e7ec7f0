#pragma once

// Settings that are accepted but do nothing, found when a rule or quota is written:
// the service returns them as "warnings" (sentences saying what to do), and with
// "strict": true refuses the change instead (nothing is written). Checked here:
//   - a rate on a block or direct rule (only relayed flows are rate-limited);
//   - a quota for a program no relay rule reaches (only relayed traffic is metered);
//   - a user the OS does not know;
//   - a program or directory that is not there (service/rpc/program_paths.h);
//   - a rule an earlier enabled rule covers (matches every flow it would), and an
//     earlier rule it covers in turn when it is put in front of it;
//   - an exact duplicate (policy::decides_alike) of a rule already there.
// "Covers" is judged conservatively: a covering rule's program is "**", the same path,
// or a glob matching the other's path; its user is unset or the same text; its
// protocol any or the same; its destinations and ports unset or containing every one
// of the other's. A pair this misses is not warned about; no warning is false.

#include <string>
#include <vector>

#include "control/protocol/jsonrpc.h"
#include "service/policy/matcher.h"
#include "service/policy/quota.h"

namespace sluice::service {

// True when every flow `later` matches is matched by `earlier` (both as rules, enabled or not).
bool rule_covers(const policy::Rule& earlier, const policy::Rule& later, const policy::MatcherOptions& options);

// The warnings for `rule` about to stand at `index` (0-based) in `others` (the policy's
// other rules in evaluation order, without it). `label` names the rule in them ("this
// rule", "rules[3]").
std::vector<std::string> rule_warnings(const policy::Rule& rule, std::size_t index, const std::vector<policy::Rule>& others,
                                       const policy::MatcherOptions& options, const std::string& label = "this rule");

// The warnings for a quota, against the rules it would be enforced with.
std::vector<std::string> quota_warnings(const policy::Quota& quota, const std::vector<policy::Rule>& rules,
                                        policy::Action default_action, const policy::MatcherOptions& options);

// With "strict": true in `params` and any warning, throws the refusal (kConflict,
// data {"warnings": [...]}); otherwise does nothing.
void refuse_if_strict(const protocol::json& params, const std::vector<std::string>& warnings);

}  // namespace sluice::service
