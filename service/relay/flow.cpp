#include "service/relay/flow.h"

namespace sluice::relay {

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
