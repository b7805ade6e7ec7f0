#pragma once

#include "control/protocol/jsonrpc.h"
#include "service/flows/policy_snapshot.h"
#include "service/flows/usage_ledger.h"

namespace sluice::service {

// rule.*, quota.*, settings.*, policy.*, usage.show and audit.list. Reads are open
// to every local user; changes are Access::admin and are written with the caller's
// identity into the audit trail.
void register_policy_methods(protocol::Dispatcher& dispatcher, PublishedPolicy& policy, UsageFlusher& flusher);

// rule.list pages hold at most this many rules, so any page fits in one frame.
inline constexpr std::size_t kMaxRulesPerPage = 2000;

}  // namespace sluice::service
