#include "service/flows/flow_manager.h"

#include <fmt/chrono.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <ctime>
#include <set>
#include <string_view>

#include "common/platform/platform.h"
#include "net/ip_address.h"
#include "service/relay/socket_owner.h"

namespace sluice::service {
namespace {

using Clock = std::chrono::steady_clock;

std::string utc_now() { return fmt::format("{:%Y-%m-%dT%H:%M:%SZ}", fmt::gmtime(std::time(nullptr))); }

using relay::finished;

}  // namespace

FlowManager::FlowManager(PublishedPolicy& policy, UsageLedger& ledger, relay::RelayEngine* engine, FlowManagerOptions options)
    : policy_(policy), ledger_(ledger), engine_(engine), options_(options), buckets_(policy), last_sample_(Clock::now()) {
  measure_descriptors();
  sampler_ = std::thread([this] {
    while (!stop_.wait_for(options_.sample_interval)) {
      try {
        sample();
      } catch (const std::exception& e) {
        SPDLOG_ERROR("flow accounting: {}", e.what());
      }
    }
  });
}

FlowManager::~FlowManager() { stop(); }

void FlowManager::stop() {
  stop_.request();
  if (sampler_.joinable()) {
    sampler_.join();
    sample();  // the bytes counted since the last sample reach the ledger
  }
}

FlowManager::AppTotals& FlowManager::app_totals(const std::string& app, Clock::time_point now) {
  auto it = apps_.find(app);
  if (it == apps_.end()) {
    if (apps_.size() >= options_.max_apps) age_out_apps(now, true);
    it = apps_.emplace(app, AppTotals{}).first;
  }
  it->second.last_active = now;
  return it->second;
}

void FlowManager::age_out_apps(Clock::time_point now, bool room) {
  std::set<std::string_view> live;
  for (const auto& [id, e] : entries_) live.insert(e.owner.executable);
  std::vector<std::map<std::string, AppTotals>::iterator> idle;
  for (auto it = apps_.begin(); it != apps_.end(); ++it) {
    if (!live.count(it->first)) idle.push_back(it);
  }
  std::sort(idle.begin(), idle.end(), [](auto a, auto b) { return a->second.last_active < b->second.last_active; });
  // Making room frees an eighth of the table at once, so a flood of new paths costs
  // one scan per max_apps / 8 programs, not one per program.
  const std::size_t target = room ? options_.max_apps - std::max<std::size_t>(1, options_.max_apps / 8) : apps_.size();
  for (auto it : idle) {
    const bool expired = now - it->second.last_active >= options_.app_idle;
    if (!expired && apps_.size() <= target) break;
    apps_.erase(it);
    ++apps_aged_out_;
  }
}

void FlowManager::count_decision(const std::string& app, policy::Action action) {
  AppTotals& totals = app_totals(app, Clock::now());
  switch (action) {
    case policy::Action::direct: ++totals.decided_direct; break;
    case policy::Action::relay: ++totals.decided_relay; break;
    case policy::Action::block: ++totals.decided_block; break;
  }
}

policy::FlowKey flow_key(const FlowRequest& request, const FlowOwner& owner) {
  policy::FlowKey key;
  key.app = owner.executable;
  if (owner.uid >= 0) key.user_ids.push_back(std::to_string(owner.uid));
  if (!owner.account.empty()) key.user_ids.push_back(owner.account);
  key.protocol = request.protocol;
  key.destination = request.destination.ip;
  key.port = request.destination.port;
  return key;
}

FlowDecision FlowManager::decide(const FlowRequest& request, const FlowOwner& owner) {
  const policy::FlowKey key = flow_key(request, owner);
  const Verdict verdict = policy_.decide(key);
  FlowDecision decision;
  decision.action = verdict.action;
  decision.rule_id = verdict.rule_id;
  decision.rate = verdict.rate;
  decision.reason = verdict.rule_id ? "rule " + std::to_string(*verdict.rule_id) : "default action";

  // A volume cap reached with on_exceed=block refuses every new flow of the
  // application that would use the network through us or around us. Judged against
  // the policy of this moment: a cap lifted or raised a moment ago no longer refuses.
  if (verdict.action != policy::Action::block) {
    auto blocks = [](const std::optional<CapState>& cap) {
      return cap && cap->reached && policy::cap_refuses_flows(cap->on_exceed);
    };
    if (blocks(cap_state(key.app))) {
      decision.action = policy::Action::block;
      decision.reason = relay::kVolumeCapReached;
    } else if (blocks(global_cap_state())) {
      decision.action = policy::Action::block;
      decision.reason = kGlobalVolumeCapReached;
    }
  }
  return decision;
}

FlowDecision FlowManager::register_flow(const FlowRequest& request, const FlowOwner& owner, bool administrator) {
  const policy::FlowKey key = flow_key(request, owner);
  FlowDecision decision = decide(request, owner);
  const Verdict verdict{decision.action, decision.rule_id, decision.rate};
  // The rule decided this flow, whatever happens to it next (a cap, a limit, a relay
  // failure): what nft and iptables -v count. policy.check calls decide() and is not counted.
  if (decision.rule_id) policy_.count_hit(*decision.rule_id);

  if (decision.action != policy::Action::relay) {
    std::lock_guard lock(mutex_);
    count_decision(key.app, decision.action);
    return decision;
  }
  if (!engine_) {
    throw protocol::RpcError(protocol::kInternalError, "the relay engine is not running; cannot relay this flow");
  }

  check_limits(request.protocol, owner, administrator);
  auto flow = std::make_shared<relay::Flow>();
  flow->protocol = request.protocol;
  flow->app_local = request.local;
  // The local address is what the relay will recognise the program's traffic by: a
  // claim of somebody else's port would hand that program's connection to the
  // claimant. So it must be a socket of the calling process, as the kernel says.
  try {
    flow->app_socket = relay::prove_bound_socket(request.protocol, request.local, owner.pid, owner.process_handle, [&owner] {
      return platform::same_process(owner.pid, owner.process_start, owner.process_handle);
    });
  } catch (const relay::OwnershipError& e) {
    throw protocol::RpcError(protocol::kPermissionDenied, std::string("flow.register: ") + e.what(), protocol::json{{"field", "local"}});
  }
  flow->destination = request.destination;
  flow->limits = buckets_.limits_for(key.app, verdict);
  flow->volume = allowance_for(key.app);
  flow->global_volume = global_allowance();
  {
    std::lock_guard lock(mutex_);
    flow->id = next_id_++;
    if (request.protocol == policy::Protocol::udp) flow->user_queue = udp_queue_for(owner, administrator);
    flow->state.count_in(tally_for(owner), request.protocol == policy::Protocol::udp);
  }
  if (request.protocol == policy::Protocol::tcp) {
    // The application connects from its own family: IPv4 sockets to the IPv4
    // listener; IPv6 ones to ::1, or to the IPv4 listener (v4-mapped) without ::1.
    const bool ipv6 = !net::is_ipv4(request.local.ip) && engine_->tcp_listener(true).port != 0;
    decision.relay = engine_->tcp_listener(ipv6);
    engine_->expect_tcp(flow);
  } else {
    try {
      decision.relay = engine_->open_udp(flow);
    } catch (const std::exception& e) {
      throw protocol::RpcError(protocol::kInternalError, std::string("cannot open a UDP association: ") + e.what());
    }
  }
  decision.flow = flow;

  std::lock_guard lock(mutex_);
  count_decision(key.app, decision.action);
  ++app_totals(key.app, Clock::now()).flows_total;
  Entry entry{flow, owner, verdict.rule_id, utc_now(), Clock::now()};
  entries_.emplace(flow->id, std::move(entry));
  return decision;
}

void FlowManager::release(std::uint64_t flow_id, const FlowOwner& requester) {
  {
    std::lock_guard lock(mutex_);
    auto it = entries_.find(flow_id);
    // Only the process that registered a flow may end it: a forked child closing
    // its inherited copy of the socket must not cut off its parent, and a program
    // that was given the registrant's pid after it ended is not the registrant.
    if (it == entries_.end()) return;
    const FlowOwner& owner = it->second.owner;
    if (owner.pid != requester.pid || owner.process_start != requester.process_start) return;
  }
  if (engine_) engine_->close_flow(flow_id);
}

void FlowManager::check_limits(policy::Protocol protocol, const FlowOwner& owner, bool administrator) {
  const UserFlowLimits& limits = options_.limits;
  const std::size_t cost = protocol == policy::Protocol::udp ? kDescriptorsPerUdpFlow : kDescriptorsPerTcpFlow;
  auto below_reserve = [&] {
    return descriptors_free_ >= 0 && descriptors_free_ < static_cast<std::int64_t>(limits.descriptor_reserve + cost);
  };
  bool near_reserve;
  {
    std::lock_guard lock(mutex_);
    near_reserve = below_reserve();
  }
  // Between readings the estimate runs down by each flow's worst case; a burst of
  // registrations would reach the reserve on the estimate alone. Only a reading refuses.
  if (near_reserve) measure_descriptors();
  std::lock_guard lock(mutex_);
  auto refuse = [&](const char* key, const std::string& what) {
    ++refused_[key];
    throw protocol::RpcError(protocol::kServerBusy, "flow.register refused: " + what + " (limit " + key + ")",
                             protocol::json{{"limit", key}});
  };
  // The reserve holds for everyone: without it the control socket's accept fails
  // and not even an administrator gets in to see why.
  if (below_reserve()) {
    refuse(flow_limit_key(&UserFlowLimits::descriptor_reserve), "sluiced has " + std::to_string(descriptors_free_) + " free descriptors and keeps " +
                                     std::to_string(limits.descriptor_reserve) + " for its control plane");
  }
  if (!(administrator && limits.administrators_exempt)) {
    // What the user's flows hold, as their state changes keep it (relay::UserFlowTally).
    const auto tally = tally_for(owner);
    const auto count = [](const std::atomic<std::int64_t>& n) { return static_cast<std::size_t>(std::max<std::int64_t>(0, n.load())); };
    const std::size_t pending = count(tally->tcp_pending), tcp = count(tally->tcp), udp = count(tally->udp);
    const std::string who = "user " + (owner.account.empty() ? std::to_string(owner.uid) : owner.account);
    if (protocol == policy::Protocol::udp) {
      if (udp >= limits.udp_per_user) {
        refuse(flow_limit_key(&UserFlowLimits::udp_per_user), who + " holds " + std::to_string(udp) + " UDP associations, the most allowed");
      }
    } else {
      if (pending >= limits.pending_per_user) {
        refuse(flow_limit_key(&UserFlowLimits::pending_per_user), who + " has " + std::to_string(pending) +
                                                 " TCP registrations not yet connected, the most allowed");
      }
      if (tcp >= limits.relayed_per_user) {
        refuse(flow_limit_key(&UserFlowLimits::relayed_per_user), who + " holds " + std::to_string(tcp) + " relayed TCP flows, the most allowed");
      }
    }
  }
  if (descriptors_free_ >= 0) descriptors_free_ -= static_cast<std::int64_t>(cost);
}

std::shared_ptr<relay::UserQueuedBytes> FlowManager::udp_queue_for(const FlowOwner& owner, bool administrator) {
  if (administrator && options_.limits.administrators_exempt) return nullptr;
  if (udp_queues_.size() >= 64) std::erase_if(udp_queues_, [](const auto& e) { return e.second.expired(); });
  auto& slot = udp_queues_[std::to_string(owner.uid) + "/" + owner.account];
  auto queue = slot.lock();
  if (!queue) {
    queue = std::make_shared<relay::UserQueuedBytes>(options_.limits.udp_queued_bytes_per_user);
    slot = queue;
  }
  return queue;
}

std::shared_ptr<relay::UserFlowTally> FlowManager::tally_for(const FlowOwner& owner) {
  // Pruned in proportion to its size, so the cost per registration stays constant.
  if (tallies_.size() >= 2 * tallies_kept_ + 64) {
    std::erase_if(tallies_, [](const auto& e) { return e.second.expired(); });
    tallies_kept_ = tallies_.size();
  }
  auto& slot = tallies_[std::to_string(owner.uid) + "/" + owner.account];
  auto tally = slot.lock();
  if (!tally) {
    tally = std::make_shared<relay::UserFlowTally>();
    slot = tally;
  }
  return tally;
}

void FlowManager::measure_descriptors() {
  const platform::DescriptorUse use = platform::descriptor_use();
  std::lock_guard lock(mutex_);
  descriptors_free_ = use.limit >= 0 && use.open >= 0 ? use.limit - use.open : -1;
  descriptors_limit_ = use.limit;
}

FlowLimitsView FlowManager::limits() const {
  std::lock_guard lock(mutex_);
  return FlowLimitsView{options_.limits, descriptors_free_, descriptors_limit_, refused_};
}

void FlowManager::sample() {
  measure_descriptors();
  count_traffic(true);
  // Outside the lock: reads the store, and registrations must not wait on it.
  update_volume_caps();
  buckets_.refresh();
}

void FlowManager::count_usage() { count_traffic(false); }

void FlowManager::count_traffic(bool measure_rates) {
  const auto now = Clock::now();
  std::lock_guard lock(mutex_);
  const double seconds = std::chrono::duration<double>(now - last_sample_).count();
  if (measure_rates) {
    last_sample_ = now;
    for (auto& [app, totals] : apps_) totals.rate_up = totals.rate_down = 0;
  }

  for (auto it = entries_.begin(); it != entries_.end();) {
    Entry& e = it->second;
    relay::FlowCounters& c = e.flow->counters;
    const std::uint64_t up = c.bytes_up.load(), down = c.bytes_down.load();
    const std::uint64_t packets_up = c.packets_up.load(), packets_down = c.packets_down.load();
    const std::uint64_t dropped = c.dropped.load();
    const std::uint64_t delta_up = up - e.counted_up, delta_down = down - e.counted_down;
    if (measure_rates) {
      e.rate_up = seconds > 0 ? static_cast<double>(up - e.rated_up) / seconds : 0;
      e.rate_down = seconds > 0 ? static_cast<double>(down - e.rated_down) / seconds : 0;
      e.rated_up = up;
      e.rated_down = down;
    }

    const std::string& app = e.owner.executable;
    if (delta_up || packets_up != e.counted_packets_up) ledger_.record(app, Direction::up, delta_up, packets_up - e.counted_packets_up);
    if (delta_down || packets_down != e.counted_packets_down) {
      ledger_.record(app, Direction::down, delta_down, packets_down - e.counted_packets_down);
    }
    if (dropped != e.counted_dropped) ledger_.record_drop(app, dropped - e.counted_dropped);
    AppTotals& totals = app_totals(app, now);
    totals.bytes_up += delta_up;
    totals.bytes_down += delta_down;
    totals.dropped += dropped - e.counted_dropped;
    if (measure_rates) {
      totals.rate_up += e.rate_up;
      totals.rate_down += e.rate_down;
    }
    e.counted_up = up;
    e.counted_down = down;
    e.counted_packets_up = packets_up;
    e.counted_packets_down = packets_down;
    e.counted_dropped = dropped;

    if (measure_rates && finished(e.flow->state.load())) {
      if (!e.finished) e.finished = now;
      if (now - *e.finished >= options_.keep_finished) {
        it = entries_.erase(it);
        continue;
      }
    }
    ++it;
  }
  if (measure_rates) age_out_apps(now, false);
}

namespace {

// The quota whose volume cap `key` names in `snapshot` (kGlobalQuotaKey: the global
// one), or null when there is no such cap.
const policy::Quota* volume_capped(const PolicySnapshot& snapshot, const std::string& key) {
  const policy::Quota* quota = nullptr;
  if (key == kGlobalQuotaKey) {
    if (snapshot.global_quota) quota = &*snapshot.global_quota;
  } else if (auto it = snapshot.quotas.find(key); it != snapshot.quotas.end()) {
    quota = &it->second;
  }
  return quota && policy::has_volume_cap(*quota) ? quota : nullptr;
}

}  // namespace

std::uint64_t FlowManager::counted_usage(const policy::Quota& quota, const std::string& since) {
  // The global cap counts every program's relayed bytes.
  const std::optional<std::string> app = quota.global ? std::nullopt : std::optional(quota.app);
  std::uint64_t used = quota.global ? ledger_.pending_bytes_all() : ledger_.pending_bytes(quota.app);
  for (const auto& row : policy_.store().usage(app, since, false)) used += row.bytes_up + row.bytes_down;
  return used;
}

std::shared_ptr<relay::VolumeAllowance> FlowManager::allowance_for(const std::string& app) {
  auto snapshot = policy_.snapshot();
  std::lock_guard lock(caps_mutex_);
  catch_up_caps_locked(*snapshot);
  const std::string key = policy_.quota_key(app);
  if (auto it = allowances_.find(key); it != allowances_.end()) return it->second;
  // Held here while the caps are applied, which drop allowances nothing else holds.
  auto made = std::make_shared<relay::VolumeAllowance>();
  allowances_[key] = made;
  apply_caps_locked(*snapshot, false);
  allowances_[key] = made;
  return made;
}

std::shared_ptr<relay::VolumeAllowance> FlowManager::global_allowance() {
  auto snapshot = policy_.snapshot();
  std::lock_guard lock(caps_mutex_);
  catch_up_caps_locked(*snapshot);
  return allowances_.at(kGlobalQuotaKey);
}

void FlowManager::catch_up_caps_locked(const PolicySnapshot& snapshot) {
  if (snapshot.generation != caps_generation_) apply_caps_locked(snapshot, false);
}

void FlowManager::apply_caps_locked(const PolicySnapshot& snapshot, bool reload) {
  caps_generation_ = snapshot.generation;
  const std::string today = utc_day();
  bool collected = false;
  // A capped program gets an allowance before its first flow, so its usage is known
  // when the cap is checked; uncapped ones only while a flow holds theirs. The global
  // one always exists: every relayed flow draws on it, capped or not.
  allowances_.try_emplace(kGlobalQuotaKey, std::make_shared<relay::VolumeAllowance>());
  for (const auto& [key, quota] : snapshot.quotas) {
    if (volume_capped(snapshot, key)) allowances_.try_emplace(key, std::make_shared<relay::VolumeAllowance>());
  }
  for (auto it = allowances_.begin(); it != allowances_.end();) {
    const policy::Quota* q = volume_capped(snapshot, it->first);
    relay::VolumeAllowance& allowance = *it->second;
    if (!q) {
      allowance.set_cap(relay::VolumeAllowance::kNoCap, false);
      allowance_since_.erase(it->first);
      if (it->first != kGlobalQuotaKey && it->second.use_count() == 1) {
        it = allowances_.erase(it);
        continue;
      }
      ++it;
      continue;
    }
    const std::string since = policy::period_start(*q->volume_period, today);
    auto counted = allowance_since_.find(it->first);
    if (counted == allowance_since_.end() || counted->second != since) {
      // A new cap or a new period starts from what was counted, and what the relay
      // moved since the last sample belongs to it: a cap set a moment after a big
      // download must see it. (caps_mutex_ before mutex_, never the other way.)
      if (!collected) count_traffic(false);
      collected = true;
      allowance.reset_used(counted_usage(*q, since));
      allowance_since_[it->first] = since;
    } else if (reload) {
      allowance.raise_used_to(counted_usage(*q, since));
    }
    allowance.set_cap(*q->volume_bytes, policy::cap_refuses_flows(q->on_exceed));
    ++it;
  }
}

std::optional<CapState> FlowManager::cap_state_locked(const PolicySnapshot& snapshot, const std::string& key) {
  const policy::Quota* quota = volume_capped(snapshot, key);
  if (!quota) return std::nullopt;
  auto it = allowances_.find(key);
  if (it == allowances_.end()) return std::nullopt;
  CapState state;
  state.global = quota->global;
  state.app = quota->app;
  state.used = it->second->used();
  state.limit = *quota->volume_bytes;
  state.period = *quota->volume_period;
  state.since = allowance_since_[key];
  state.on_exceed = policy::on_exceed_of(*quota);
  state.reached = policy::volume_cap_reached(state.used, state.limit);
  return state;
}

std::optional<CapState> FlowManager::cap_state_of_key(const std::string& key) {
  auto snapshot = policy_.snapshot();
  std::lock_guard lock(caps_mutex_);
  catch_up_caps_locked(*snapshot);
  return cap_state_locked(*snapshot, key);
}

std::optional<CapState> FlowManager::cap_state(const std::string& app) { return cap_state_of_key(policy_.quota_key(app)); }

std::optional<CapState> FlowManager::global_cap_state() { return cap_state_of_key(kGlobalQuotaKey); }

std::vector<CapState> FlowManager::cap_states() {
  auto snapshot = policy_.snapshot();
  std::lock_guard lock(caps_mutex_);
  catch_up_caps_locked(*snapshot);
  std::vector<CapState> out;
  if (auto global = cap_state_locked(*snapshot, kGlobalQuotaKey)) out.push_back(std::move(*global));
  for (const auto& [key, quota] : snapshot->quotas) {
    if (auto state = cap_state_locked(*snapshot, key)) out.push_back(std::move(*state));
  }
  return out;
}

// Once a sample: what the store and the ledger counted is brought into each
// allowance (it never lowers what the relay counted since), and the programs over
// their caps are handed to the buckets, which throttle those with on_exceed=throttle.
void FlowManager::update_volume_caps() {
  auto snapshot = policy_.snapshot();
  std::set<std::string> over;
  {
    std::lock_guard lock(caps_mutex_);
    std::map<std::string, bool> before;
    for (const auto& [key, allowance] : allowances_) before[key] = allowance->over();
    apply_caps_locked(*snapshot, true);
    for (const auto& [key, allowance] : allowances_) {
      if (!allowance->over()) continue;
      over.insert(key);
      if (!before[key]) {
        SPDLOG_INFO("quota: {} reached its volume cap ({} of {} bytes)", key == kGlobalQuotaKey ? "the global quota" : key,
                    allowance->used(), allowance->limit());
      }
    }
  }
  buckets_.set_over_volume_keys(std::move(over));
}

FlowPage FlowManager::flows(const FlowQuery& query) const {
  const auto now = Clock::now();
  std::lock_guard lock(mutex_);
  FlowPage page;
  for (auto it = entries_.upper_bound(query.after); it != entries_.end(); ++it) {
    const auto& [id, e] = *it;
    const relay::Flow& f = *e.flow;
    const relay::FlowState state = f.state.load();
    if (query.active_only && finished(state)) continue;
    if (query.app && e.owner.executable != *query.app) continue;
    if (page.flows.size() == query.limit) {
      page.more = true;
      break;
    }
    FlowView v;
    v.id = id;
    v.owner = e.owner;
    v.protocol = f.protocol;
    v.local = f.app_local;
    v.destination = f.destination;
    v.rule_id = e.rule_id;
    v.state = state;
    // Written once before the state turns final, so it is read only then; a closed
    // flow may say why it was ended (at a volume cap, idle).
    if (relay::finished(v.state)) v.error = f.error;
    v.bytes_up = f.counters.bytes_up.load();
    v.bytes_down = f.counters.bytes_down.load();
    v.packets_up = f.counters.packets_up.load();
    v.packets_down = f.counters.packets_down.load();
    v.dropped = f.counters.dropped.load();
    v.rate_up = e.rate_up;
    v.rate_down = e.rate_down;
    v.started_at = e.started_at;
    v.age_seconds = std::chrono::duration<double>(now - e.started).count();
    page.flows.push_back(std::move(v));
  }
  return page;
}

AppTable FlowManager::app_stats() const {
  // The caps as they stand now (a cap lifted a moment ago is not reached), read before
  // mutex_: the caps are never consulted under it.
  std::set<std::string> over;
  {
    auto snapshot = policy_.snapshot();
    std::lock_guard caps(caps_mutex_);
    for (const auto& [key, allowance] : allowances_) {
      const policy::Quota* quota = volume_capped(*snapshot, key);
      if (quota && key != kGlobalQuotaKey && policy::volume_cap_reached(allowance->used(), *quota->volume_bytes)) over.insert(key);
    }
  }
  std::lock_guard lock(mutex_);
  std::map<std::string, std::uint64_t> active;
  for (const auto& [id, e] : entries_) {
    if (!finished(e.flow->state.load())) ++active[e.owner.executable];
  }
  AppTable out;
  out.aged_out = apps_aged_out_;
  for (const auto& [app, t] : apps_) {
    AppStats s;
    s.app = app;
    s.flows_active = active[app];
    s.flows_total = t.flows_total;
    s.decided_direct = t.decided_direct;
    s.decided_relay = t.decided_relay;
    s.decided_block = t.decided_block;
    s.bytes_up = t.bytes_up;
    s.bytes_down = t.bytes_down;
    s.dropped = t.dropped;
    s.rate_up = t.rate_up;
    s.rate_down = t.rate_down;
    s.over_volume = over.count(policy_.quota_key(app)) > 0;
    out.apps.push_back(std::move(s));
  }
  return out;
}

relay::EngineCounters FlowManager::engine_counters() const { return engine_ ? engine_->counters() : relay::EngineCounters{}; }

}  // namespace sluice::service
