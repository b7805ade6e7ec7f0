#include "service/metrics/metrics_source.h"

#include <stdexcept>

#include "common/platform/platform.h"
#include "control/protocol/paging.h"
#include "control/protocol/prometheus.h"

namespace sluice::service::metrics {
namespace {

using protocol::json;

json call(const protocol::Dispatcher& dispatcher, const protocol::Caller& caller, const char* method,
          const json& params = json::object()) {
  const json response = dispatcher.handle_request(protocol::make_request(1, method, params), caller);
  if (response.contains("error")) {
    throw std::runtime_error(std::string(method) + ": " + response["error"].value("message", std::string("failed")));
  }
  return response.at("result");
}

}  // namespace

std::function<std::string()> metrics_text_source(const protocol::Dispatcher& dispatcher) {
  return [&dispatcher] {
    // The scrape comes from the service itself on behalf of an anonymous reader.
    protocol::Caller caller;
    caller.pid = platform::current_pid();
    caller.account = "metrics endpoint";
    const json stats = protocol::collect_pages([&](const json& params) { return call(dispatcher, caller, "stats.get", params); },
                                               json::object(), "apps", "after");
    const json status = call(dispatcher, caller, "service.status");
    return protocol::prometheus_text(stats, status);
  };
}

}  // namespace sluice::service::metrics
