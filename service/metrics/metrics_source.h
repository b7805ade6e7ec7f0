#pragma once

// What sluiced's /metrics serves: the Prometheus text of the same stats.get and
// service.status results sluicectl reads, asked of the service's own dispatcher,
// so the endpoint and `sluicectl stats --format prometheus` cannot disagree.

#include <functional>
#include <string>

#include "control/protocol/jsonrpc.h"

namespace sluice::service::metrics {

// A text source for MetricsServer. `dispatcher` must have stats.get and
// service.status registered and outlive the source. Each call asks both methods
// as a local reader (no administrator rights) and throws std::runtime_error with
// the service's message when either fails.
std::function<std::string()> metrics_text_source(const protocol::Dispatcher& dispatcher);

}  // namespace sluice::service::metrics
