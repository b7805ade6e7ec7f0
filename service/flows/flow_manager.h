#pragma once

// Flow registration and accounting: the service's side of the provider protocol
// (provider/core/registration.h). It decides each new flow with the policy and the
// volume caps, hands relayed ones to the relay engine with their token buckets, and,
// once a second, turns the engine's counters into rates, usage in the ledger and
// volume-cap state; the usage flusher collects the counts as it writes them. Platform-neutral: the engine behind it is the platform's.

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "common/stop_signal.h"
#include "control/protocol/jsonrpc.h"
#include "service/flows/policy_snapshot.h"
#include "service/flows/quota_buckets.h"
#include "service/flows/usage_ledger.h"
#include "service/flows/user_flow_limits.h"
#include "service/relay/relay_engine.h"

namespace sluice::service {

// Who opened a flow, as the OS identified the caller.
struct FlowOwner {
  std::int64_t pid = -1;
  std::int64_t uid = -1;
  std::string account;
  std::string executable;
  // The process as its connection pinned it (protocol::Caller): a pid reused by
  // another program is not this owner.
  std::uint64_t process_start = 0;
  std::intptr_t process_handle = -1;  // valid while the registering call runs only
};

struct FlowRequest {
  policy::Protocol protocol = policy::Protocol::tcp;
  net::Endpoint destination;
  net::Endpoint local;  // the application socket's bound address
};

struct FlowDecision {
  policy::Action action = policy::Action::direct;
  std::optional<std::int64_t> rule_id;
  std::string reason;                 // "rule 3", "default action", "volume cap reached"
  policy::Rates rate;                 // the deciding rule's rate limit
  std::shared_ptr<relay::Flow> flow;  // relay only
  net::Endpoint relay;               // relay only: where the application sends instead
};

// A program's volume cap as enforcement sees it now (quota show, policy check).
struct CapState {
  bool global = false;  // the machine-wide cap, on every program's relayed bytes
  std::string app;  // the quota's program (empty for the global cap)
  std::uint64_t used = 0, limit = 0;  // bytes up + down this period, and the cap
  policy::VolumePeriod period = policy::VolumePeriod::day;
  std::string since;  // the period's first day, UTC
  policy::OnExceed on_exceed = policy::OnExceed::block;
  bool reached = false;  // used >= limit: new flows are refused (block) or throttled
};

// Why a flow was refused at the global quota's volume cap.
inline constexpr const char* kGlobalVolumeCapReached = "global volume cap reached";

// The policy's view of a flow: the program, the protocol and destination, and the
// user as both its uid and its account name (rules may name either).
policy::FlowKey flow_key(const FlowRequest& request, const FlowOwner& owner);

// One row of `sluicectl flows`.
struct FlowView {
  std::uint64_t id = 0;
  FlowOwner owner;
  policy::Protocol protocol = policy::Protocol::tcp;
  net::Endpoint local, destination;
  std::optional<std::int64_t> rule_id;
  relay::FlowState state = relay::FlowState::pending;
  std::string error;
  std::uint64_t bytes_up = 0, bytes_down = 0, packets_up = 0, packets_down = 0, dropped = 0;
  double rate_up = 0, rate_down = 0;  // bytes/s over the last sample
  std::string started_at;
  double age_seconds = 0;
};

// Per application, since the service started.
struct AppStats {
  std::string app;
  std::uint64_t flows_active = 0, flows_total = 0;
  std::uint64_t decided_direct = 0, decided_relay = 0, decided_block = 0;
  std::uint64_t bytes_up = 0, bytes_down = 0, dropped = 0;
  double rate_up = 0, rate_down = 0;
  bool over_volume = false;
};

// Every program's AppStats, sorted by path, and how many programs were dropped from
// the table since the service started.
struct AppTable {
  std::vector<AppStats> apps;
  std::uint64_t aged_out = 0;
};

// Which flows a listing wants: ids above `after`, in id order, `limit` at most.
struct FlowQuery {
  std::uint64_t after = 0;
  std::size_t limit = SIZE_MAX;
  bool active_only = false;          // leave out closed and failed flows
  std::optional<std::string> app;    // only this executable's
};

struct FlowPage {
  std::vector<FlowView> flows;
  bool more = false;  // flows past the last one returned match too
};

// How many descriptors a relayed flow costs sluiced (epoll_tcp_relay: two sockets
// and a splice pipe per direction; an association: two sockets).
inline constexpr std::size_t kDescriptorsPerTcpFlow = 6;
inline constexpr std::size_t kDescriptorsPerUdpFlow = 2;

struct FlowManagerOptions {
  std::chrono::milliseconds sample_interval{1000};
  std::chrono::seconds keep_finished{30};  // finished flows stay listed this long
  // The per-program table is bounded: any local user can run programs under as many
  // paths as they like. A program with no flow left is dropped after `app_idle` without
  // a decision or a byte, and when the table holds `max_apps`, the longest idle ones go
  // first. Usage in the database is kept; only the since-start counters are lost.
  std::chrono::seconds app_idle{3600};
  std::size_t max_apps = 4096;
  UserFlowLimits limits;
};

// The limits and what they refused, for service.status.
struct FlowLimitsView {
  UserFlowLimits limits;
  std::int64_t descriptors_free = -1;   // at the last sample; -1 unknown
  std::int64_t descriptors_limit = -1;
  std::map<std::string, std::uint64_t> refused;  // by limit key
};

class FlowManager {
 public:
  // `engine` may be null (the relay is unavailable): relay verdicts then fail the
  // registration with an error, and the provider applies its fail mode.
  FlowManager(PublishedPolicy& policy, UsageLedger& ledger, relay::RelayEngine* engine, FlowManagerOptions options = {});
  ~FlowManager();  // stops, with a last sample so every counted byte reaches the ledger

  void stop();

  // Throws protocol::RpcError when a relay cannot be set up, or when the local
  // address of a relayed flow is not proven to be a socket of the owner's process.
  FlowDecision register_flow(const FlowRequest& request, const FlowOwner& owner, bool administrator = false);
  // What register_flow would decide now, policy and volume caps, without relaying or
  // counting anything (policy.check): one decision, so the two never disagree.
  FlowDecision decide(const FlowRequest& request, const FlowOwner& owner);

  // Every volume cap of the current policy, with what its program used this period.
  std::vector<CapState> cap_states();
  std::optional<CapState> cap_state(const std::string& app);
  std::optional<CapState> global_cap_state();
  // Closes a relayed flow on its owner's behalf: the same process (pid and start
  // time, as its connection pinned them); others' requests are ignored.
  void release(std::uint64_t flow_id, const FlowOwner& requester);

  FlowPage flows(const FlowQuery& query = {}) const;
  AppTable app_stats() const;
  relay::EngineCounters engine_counters() const;
  FlowLimitsView limits() const;
  bool relay_available() const { return engine_ != nullptr; }

  // Takes one sample now (tests; the sampler thread calls it every interval).
  void sample();
  // Moves what the engine counted since the last call into the ledger and totals,
  // leaving rates to the sampler: the usage flusher calls it before each write, so
  // what reaches the database is current to the flush, not to the last sample.
  void count_usage();

 private:
  struct Entry {
    std::shared_ptr<relay::Flow> flow;
    FlowOwner owner;
    std::optional<std::int64_t> rule_id;
    std::string started_at;
    std::chrono::steady_clock::time_point started;
    std::optional<std::chrono::steady_clock::time_point> finished;
    std::uint64_t counted_up = 0, counted_down = 0, counted_packets_up = 0, counted_packets_down = 0, counted_dropped = 0;
    std::uint64_t rated_up = 0, rated_down = 0;  // the bytes the last rate was measured at
    double rate_up = 0, rate_down = 0;
  };
  struct AppTotals {
    std::uint64_t flows_total = 0, decided_direct = 0, decided_relay = 0, decided_block = 0;
    std::uint64_t bytes_up = 0, bytes_down = 0, dropped = 0;
    double rate_up = 0, rate_down = 0;
    std::chrono::steady_clock::time_point last_active;
  };

  // The allowance `owner`'s associations share; null for an exempt administrator (mutex_ held).
  std::shared_ptr<relay::UserQueuedBytes> udp_queue_for(const FlowOwner& owner, bool administrator);
  // What `owner`'s unfinished flows hold, counted by the flows themselves (mutex_ held).
  std::shared_ptr<relay::UserFlowTally> tally_for(const FlowOwner& owner);
  // The program's totals, made if new; the table is bounded first (mutex_ held).
  AppTotals& app_totals(const std::string& app, std::chrono::steady_clock::time_point now);
  // Drops idle programs: those past app_idle, and with `room`, the longest idle ones
  // until a new one fits (mutex_ held).
  void age_out_apps(std::chrono::steady_clock::time_point now, bool room);
  void count_decision(const std::string& app, policy::Action action);
  // Moves what the engine counted since the last count into totals and the ledger,
  // and with `measure_rates` (the sampler) turns what moved since the last sample into rates.
  void count_traffic(bool measure_rates);
  void update_volume_caps();
  // The allowance a relayed flow of `app` draws on, made if new (caps_mutex_ taken).
  std::shared_ptr<relay::VolumeAllowance> allowance_for(const std::string& app);
  // The one every relayed flow draws on for the global cap (uncapped while none is set).
  std::shared_ptr<relay::VolumeAllowance> global_allowance();
  // Gives every allowance its cap from `snapshot`, at once; with `reload`, or for a
  // cap new to it or a new period, what the store has counted (caps_mutex_ held).
  void apply_caps_locked(const PolicySnapshot& snapshot, bool reload);
  // The caps of a policy newer than the one last applied, applied (caps_mutex_ held).
  void catch_up_caps_locked(const PolicySnapshot& snapshot);
  std::optional<CapState> cap_state_locked(const PolicySnapshot& snapshot, const std::string& key);
  std::optional<CapState> cap_state_of_key(const std::string& key);
  // What the store and the ledger hold for `quota`'s program since `since`.
  std::uint64_t counted_usage(const policy::Quota& quota, const std::string& since);
  // Throws the RpcError naming the limit a new relayed flow of `owner` would pass.
  void check_limits(policy::Protocol protocol, const FlowOwner& owner, bool administrator);
  void measure_descriptors();

  PublishedPolicy& policy_;
  UsageLedger& ledger_;
  relay::RelayEngine* engine_;
  FlowManagerOptions options_;
  QuotaBuckets buckets_;

  mutable std::mutex mutex_;
  std::uint64_t next_id_ = 1;
  std::map<std::uint64_t, Entry> entries_;
  std::map<std::string, AppTotals> apps_;
  std::uint64_t apps_aged_out_ = 0;
  std::chrono::steady_clock::time_point last_sample_;
  std::map<std::string, std::uint64_t> refused_;
  // Each user's UDP queue allowance, shared by that user's associations while any lives.
  std::map<std::string, std::weak_ptr<relay::UserQueuedBytes>> udp_queues_;
  // Each user's tally, counted by that user's flows while any lives.
  std::map<std::string, std::weak_ptr<relay::UserFlowTally>> tallies_;
  std::size_t tallies_kept_ = 0;  // tallies_ after the last pruning
  // Free descriptors as last counted, less what flows registered since will cost.
  std::int64_t descriptors_free_ = -1, descriptors_limit_ = -1;

  // Volume caps, by quota key: one allowance per program, shared by its relayed flows
  // (kept while a cap or a flow uses it), and the period start it counts from.
  mutable std::mutex caps_mutex_;
  std::map<std::string, std::shared_ptr<relay::VolumeAllowance>> allowances_;
  std::map<std::string, std::string> allowance_since_;
  std::uint64_t caps_generation_ = 0;

  StopSignal stop_;
  std::thread sampler_;
};

}  // namespace sluice::service
