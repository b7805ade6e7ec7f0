#pragma once

// A relayed flow as the engine and the service share it: where it comes from and
// goes to, its limits, and counters the engine updates without locks. Platform-neutral.

#include <atomic>
#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "net/ip_address.h"
#include "service/policy/rule.h"
#include "service/relay/datagram_queue.h"
#include "service/relay/token_bucket.h"
#include "service/relay/volume_allowance.h"

namespace sluice::relay {

enum class FlowState : int {
  pending,     // registered, waiting for the application's connect (TCP)
  connecting,  // application accepted, connecting to the destination (TCP)
  open,        // relaying
  closed,      // finished normally
  failed,      // destination unreachable, reset, or never claimed
};
const char* to_string(FlowState state);
inline bool finished(FlowState state) { return state == FlowState::closed || state == FlowState::failed; }

// What one user holds of the relay, kept by the flows themselves as their state
// changes, so a registration checks the per-user limits without walking every flow.
// Signed: two racing state changes may each apply half before the other.
struct UserFlowTally {
  std::atomic<std::int64_t> tcp_pending{0};  // TCP flows registered, not yet connected
  std::atomic<std::int64_t> tcp{0};          // TCP flows not finished
  std::atomic<std::int64_t> udp{0};          // UDP associations not finished
};

// A flow's state, which the engine sets from its threads (`flow->state = open`), and
// which keeps its owner's tally: a flow counts from count_in() until it finishes or
// is destroyed unfinished (a registration that failed after it was counted).
class FlowStateCell {
 public:
  FlowStateCell() = default;
  FlowStateCell(const FlowStateCell&) = delete;
  FlowStateCell& operator=(const FlowStateCell&) = delete;
  ~FlowStateCell() { count(state_.load(), -1); }

  FlowState load() const { return state_.load(); }
  operator FlowState() const { return load(); }
  void store(FlowState next) { count(state_.exchange(next), -1), count(next, +1); }
  FlowStateCell& operator=(FlowState next) {
    store(next);
    return *this;
  }
  // Counts the flow in `tally` from now on; once, before the engine is given the flow.
  void count_in(std::shared_ptr<UserFlowTally> tally, bool udp) {
    tally_ = std::move(tally);
    udp_ = udp;
    count(state_.load(), +1);
  }

 private:
  void count(FlowState state, std::int64_t delta) {
    if (!tally_ || finished(state)) return;
    (udp_ ? tally_->udp : tally_->tcp).fetch_add(delta);
    if (!udp_ && state == FlowState::pending) tally_->tcp_pending.fetch_add(delta);
  }

  std::atomic<FlowState> state_{FlowState::pending};
  std::shared_ptr<UserFlowTally> tally_;
  bool udp_ = false;
};

struct FlowCounters {
  std::atomic<std::uint64_t> bytes_up{0}, bytes_down{0};      // up: application -> destination
  std::atomic<std::uint64_t> packets_up{0}, packets_down{0};  // datagrams (UDP) or reads (TCP)
  std::atomic<std::uint64_t> dropped{0};                      // UDP datagrams dropped
};

// The buckets a flow draws on, per direction: typically the application's quota,
// the matching rule's limit and the global cap. Bytes pass when every bucket in the
// chain grants them; an empty chain is unlimited.
struct FlowLimits {
  std::vector<std::shared_ptr<TokenBucket>> up, down;
};

// The application's socket as the kernel identifies it (socket_owner.h): proven to
// be the registering program's at flow.register, compared with the connecting socket
// on accept. Unknown (the default) matches no connection.
struct SocketIdentity {
  std::uint64_t inode = 0;  // Linux: the socket's inode
  std::int64_t uid = -1;    // Linux: its owner
  std::int64_t pid = -1;    // Windows: the owning process
  bool known() const { return inode != 0 || pid >= 0; }
};

struct Flow {
  std::uint64_t id = 0;
  policy::Protocol protocol = policy::Protocol::tcp;
  net::Endpoint app_local;     // the application socket's address, as the relay will see it
  net::Endpoint destination;   // where the application meant to go
  SocketIdentity app_socket;  // the socket bound to app_local, as proven at registration
  FlowLimits limits;
  std::shared_ptr<UserQueuedBytes> user_queue;  // the owner's UDP queue allowance; null: not limited per user
  std::shared_ptr<VolumeAllowance> volume;      // the program's volume cap, shared by its flows; null: none
  std::shared_ptr<VolumeAllowance> global_volume;  // the global cap, shared by every flow; null: none
  FlowCounters counters;
  FlowStateCell state;
  std::string error;     // why it failed, set once before state becomes failed

  // Under the program's volume cap: how much of `want` may be read, and what was.
  // Both caps apply: the program's and the global one.
  std::uint64_t volume_room(std::uint64_t want) const {
    if (volume) want = volume->room(want);
    return global_volume ? global_volume->room(want) : want;
  }
  bool volume_stops() const { return (volume && volume->stops_now()) || (global_volume && global_volume->stops_now()); }
  void consume_volume(std::uint64_t bytes) {
    if (bytes == 0) return;
    if (volume) volume->consume(bytes);
    if (global_volume) global_volume->consume(bytes);
  }
};

}  // namespace sluice::relay
