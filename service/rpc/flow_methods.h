#pragma once

// The provider protocol and the data plane as sluicectl sees it, over FlowManager
// (service/flows/flow_manager.h), which decides and accounts; these methods only
// read parameters, ask it, and shape the answers.

#include "control/protocol/jsonrpc.h"
#include "service/flows/flow_manager.h"
#include "service/flows/policy_snapshot.h"

namespace sluice::service {

// service.status's "flow_limits": each limit by its sluiced.conf key, the free
// descriptors, and how many registrations each limit refused.
protocol::json flow_limits_json(const FlowLimitsView& view);

// flow.register, flow.release (providers; provider/core/registration.h), policy.check,
// quota.status, flows.list and stats.get (sluicectl).
void register_flow_methods(protocol::Dispatcher& dispatcher, FlowManager& flows, PublishedPolicy& policy);

}  // namespace sluice::service
