#pragma once

// How both providers decide a flow: the verdict cached on the socket while it
// stands, else the service's answer (kept on the socket), else, when the service is
// silent or the socket cannot be bound, the fail mode, asked again after a while.
// The fail mode and timeout the service last named win over the provider's own.
// steering.h finds the socket's bound address and keeps the program's error code.

#include <atomic>
#include <chrono>
#include <cstdint>
#include <optional>

#include "net/socket_address.h"
#include "provider/core/registration.h"
#include "provider/core/socket_state.h"

namespace sluice::provider {

// A provider's connection to sluiced, as the router uses it.
class RegistrationClient {
 public:
  virtual ~RegistrationClient() = default;
  // nullopt when the service is not there, does not answer in time, or refuses.
  virtual std::optional<RegisterAnswer> register_flow(const RegisterRequest& request, std::chrono::milliseconds timeout) = 0;
  // Best effort: a notification, nothing is awaited.
  virtual void release(std::uint64_t flow_id) = 0;
  // The service process there now (RegisterAnswer::service_instance's kind), 0 when
  // none listens.
  virtual std::int64_t current_service() = 0;
};

class FlowRouter {
 public:
  FlowRouter(RegistrationClient& client, FailMode fail_mode, std::chrono::milliseconds timeout)
      : client_(client), fail_mode_(fail_mode), timeout_ms_(static_cast<int>(timeout.count())) {}

  // The route cached on `state` for `destination`, unless there is none or it is a
  // fail-mode stand-in whose time is up. The clock is read only for those.
  static std::optional<Route> cached(const SocketState& state, const net::Endpoint& destination);

  // Asks the service about a flow to `destination` from `local`, the socket's bound
  // address (nullopt: it could not be bound), and keeps the route on `state`.
  Route decide(SocketState& state, const net::Endpoint& destination, const std::optional<net::Endpoint>& local);

 private:
  Route fail_mode_route(const net::Endpoint& destination) const;

  RegistrationClient& client_;
  // What the service last said; the provider's configuration until it has said anything.
  std::atomic<FailMode> fail_mode_;
  std::atomic<int> timeout_ms_;
};

}  // namespace sluice::provider
