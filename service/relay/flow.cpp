#include "service/relay/flow.h"

#include "service/policy/address.h"

namespace sluice::relay {

std::string format_address(const Address& address) {
  const std::string ip = policy::format_ip(address.ip);
  if (policy::is_ipv4(address.ip)) return ip + ":" + std::to_string(address.port);
  return "[" + ip + "]:" + std::to_string(address.port);
}

const char* to_string(FlowState state) {
  switch (state) {
    case FlowState::pending: return "pending";
    case FlowState::connecting: return "connecting";
    case FlowState::open: return "open";
    case FlowState::closed: return "closed";
    case FlowState::failed: return "failed";
  }
  return "?";
}

}  // namespace sluice::relay
