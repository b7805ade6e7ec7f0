// The provider protocol (flow.register, flow.release; see provider/core/registration.h)
// and what sluicectl shows of the data plane (flows.list, stats.get).

#include "service/rpc/flow_methods.h"

#include <algorithm>
#include <cmath>

#include "common/platform/platform.h"
#include "control/protocol/paging.h"
#include "net/ip_address.h"
#include "service/flows/flow_manager.h"
#include "service/policy/policy_document.h"
#include "service/rpc/program_paths.h"

namespace sluice::service {

using protocol::Access;
using protocol::Caller;
using protocol::json;
using protocol::RpcError;

namespace {

constexpr std::size_t kMaxFlowsPerPage = 1000;
constexpr std::size_t kMaxAppsPerPage = 1000;

net::Endpoint address_param(const json& params, const char* address_field, const char* port_field, bool port_required) {
  const auto text = protocol::required_param<std::string>(params, address_field);
  auto ip = net::parse_ip(text);
  if (!ip) {
    throw RpcError(protocol::kInvalidParams, std::string("parameter '") + address_field + "': '" + text + "' is not an IP address",
                   json{{"field", address_field}});
  }
  const auto port = protocol::required_param<std::int64_t>(params, port_field);
  if (port < (port_required ? 1 : 0) || port > 65535) {
    throw RpcError(protocol::kInvalidParams, std::string("parameter '") + port_field + "' must be " +
                                                 (port_required ? "1" : "0") + "-65535",
                   json{{"field", port_field}});
  }
  return net::Endpoint{*ip, static_cast<std::uint16_t>(port)};
}

std::string owner_text(std::int64_t uid, const std::string& account) {
  return account.empty() ? std::to_string(uid) : account;
}

json rate_json(double rate) { return static_cast<std::uint64_t>(std::llround(rate)); }

json flow_to_json(const FlowView& v) {
  return json{{"id", v.id},
              {"pid", v.owner.pid},
              {"user", owner_text(v.owner.uid, v.owner.account)},
              {"executable", v.owner.executable},
              {"protocol", policy::to_string(v.protocol)},
              {"local", net::format_endpoint(v.local)},
              {"destination", net::format_endpoint(v.destination)},
              {"verdict", "relay"},
              {"rule_id", v.rule_id ? json(*v.rule_id) : json()},
              {"state", relay::to_string(v.state)},
              {"error", v.error},
              {"bytes_up", v.bytes_up},
              {"bytes_down", v.bytes_down},
              {"packets_up", v.packets_up},
              {"packets_down", v.packets_down},
              {"dropped", v.dropped},
              {"rate_up", rate_json(v.rate_up)},
              {"rate_down", rate_json(v.rate_down)},
              {"started_at", v.started_at},
              {"age_seconds", std::floor(v.age_seconds * 10) / 10}};
}

json app_to_json(const AppStats& s) {
  return json{{"app", s.app},
              {"flows_active", s.flows_active},
              {"flows_total", s.flows_total},
              {"decided", {{"direct", s.decided_direct}, {"relay", s.decided_relay}, {"block", s.decided_block}}},
              {"bytes_up", s.bytes_up},
              {"bytes_down", s.bytes_down},
              {"dropped", s.dropped},
              {"rate_up", rate_json(s.rate_up)},
              {"rate_down", rate_json(s.rate_down)},
              {"over_volume", s.over_volume}};
}

json cap_to_json(const CapState& c) {
  return json{{"used", c.used},
              {"limit", c.limit},
              {"period", policy::to_string(c.period)},
              {"since", c.since},
              {"on_exceed", policy::to_string(c.on_exceed)},
              {"reached", c.reached},
              // What holds now: nothing, or new flows refused and relayed ones ended, or throttled.
              {"enforced", c.reached ? json(policy::to_string(c.on_exceed)) : json()}};
}

// The user a check is for: the one named (a uid or a name, resolved to both as the
// transport identifies a caller, so "0" and "root" are one user), or the caller.
FlowOwner check_owner(const json& params, const Caller& caller) {
  FlowOwner owner;
  if (params.contains("user") && !params["user"].is_null()) {
    const auto text = protocol::required_param<std::string>(params, "user");
    const platform::UserIdentity user = platform::find_user(text);
    if (user.uid < 0 && user.account.empty()) {
      throw RpcError(protocol::kInvalidParams, "parameter 'user': there is no user '" + text + "' on this machine",
                     json{{"field", "user"}});
    }
    owner.uid = user.uid;
    owner.account = user.account;
  } else {
    owner.uid = caller.uid;
    owner.account = caller.account;
  }
  return owner;
}

}  // namespace

json flow_limits_json(const FlowLimitsView& view) {
  json out = json::object(), refused = json::object();
  for (const FlowLimitSetting& setting : kFlowLimitSettings) {
    if (setting.count) {
      out[setting.key] = view.limits.*setting.count;
    } else {
      out[setting.key] = view.limits.*setting.flag;
    }
    if (!setting.refuses) continue;
    auto it = view.refused.find(setting.key);
    refused[setting.key] = it == view.refused.end() ? 0 : it->second;
  }
  out["descriptors_free"] = view.descriptors_free;
  out["descriptors_limit"] = view.descriptors_limit;
  out["refused"] = refused;
  return out;
}

void register_flow_methods(protocol::Dispatcher& d, FlowManager& flows, PublishedPolicy& policy) {
  // Open to every local user: a program registers its own flows. Who it is comes
  // from the transport and the executable is read again now, so a process that
  // exec'd another program since it connected is judged as what it runs now.
  d.add("flow.register", Access::read, [&flows, &policy](const json& params, const Caller& caller) {
    const auto protocol_text = protocol::required_param<std::string>(params, "protocol");
    auto protocol_value = policy::parse_protocol(protocol_text);
    if (!protocol_value || *protocol_value == policy::Protocol::any) {
      throw RpcError(protocol::kInvalidParams, "parameter 'protocol': '" + protocol_text + "' is not tcp or udp",
                     json{{"field", "protocol"}});
    }
    FlowRequest request;
    request.protocol = *protocol_value;
    request.destination = address_param(params, "destination", "port", true);
    request.local = address_param(params, "local", "local_port", false);

    FlowOwner owner{caller.pid, caller.uid, caller.account, caller.executable, caller.process_start, caller.process_handle};
    if (caller.pid > 0) {
      if (auto now = platform::process_executable(caller.pid); !now.empty()) owner.executable = now;
    }
    if (owner.executable.empty()) {
      throw RpcError(protocol::kPermissionDenied, "cannot identify the calling program; flows are not registered anonymously");
    }

    const FlowDecision decision = flows.register_flow(request, owner, caller.administrator);
    auto snapshot = policy.snapshot();
    auto setting = [&](const char* key, const char* fallback) {
      auto it = snapshot->settings.find(key);
      return it == snapshot->settings.end() ? std::string(fallback) : it->second;
    };
    json out{{"verdict", policy::to_string(decision.action)},
             {"reason", decision.reason},
             {"rule_id", decision.rule_id ? json(*decision.rule_id) : json()},
             {"fail_mode", setting("fail_mode", "open")},
             {"timeout_ms", std::stoul(setting("provider_timeout_ms", "250"))}};
    if (decision.flow) {
      out["flow_id"] = decision.flow->id;
      out["relay"] = net::format_ip(decision.relay.ip);
      out["relay_port"] = decision.relay.port;
    }
    return out;
  });

  d.add("flow.release", Access::read, [&flows](const json& params, const Caller& caller) {
    const auto id = protocol::required_param<std::uint64_t>(params, "flow_id");
    flows.release(id, FlowOwner{caller.pid, caller.uid, caller.account, caller.executable, caller.process_start, -1});
    return json{{"flow_id", id}};
  });

  // What would happen to a flow: FlowManager::decide, the decision flow.register makes
  // (rules for this user, then the volume caps as they stand), for the user named or
  // the caller, who is named in the answer.
  d.add("policy.check", Access::read, [&flows, &policy](const json& params, const Caller& caller) {
    FlowRequest request;
    const auto protocol_text = protocol::optional_param<std::string>(params, "protocol", "tcp");
    auto protocol_value = policy::parse_protocol(protocol_text);
    if (!protocol_value || *protocol_value == policy::Protocol::any) {
      throw RpcError(protocol::kInvalidParams, "parameter 'protocol': '" + protocol_text + "' is not tcp or udp",
                     json{{"field", "protocol"}});
    }
    request.protocol = *protocol_value;
    request.destination = address_param(params, "destination", "port", true);
    FlowOwner owner = check_owner(params, caller);
    // The program as enforcement will see it: a flow carries its executable's real path,
    // so "/bin/curl" is checked as what it resolves to, as rule.add stores it.
    const auto typed_app = protocol::required_param<std::string>(params, "app");
    owner.executable = resolve_program_leniently(typed_app);

    const FlowDecision decision = flows.decide(request, owner);
    json out{{"action", policy::to_string(decision.action)},
             {"reason", decision.reason},
             {"generation", policy.snapshot()->generation},
             {"user", {{"uid", owner.uid < 0 ? json() : json(owner.uid)}, {"account", owner.account}}},
             {"user_given", params.contains("user") && !params["user"].is_null()},
             {"app", owner.executable},
             {"typed_app", typed_app}};
    out["rule_id"] = decision.rule_id ? json(*decision.rule_id) : json();
    if (decision.rule_id) {
      if (auto rule = policy.store().rule(*decision.rule_id)) out["rule"] = policy::rule_to_json(*rule);
    } else if (decision.reason == "default action") {
      out["reason"] = "no rule matches: the default action applies";
    }
    if (auto quota = policy.quota_for(owner.executable)) out["quota"] = policy::quota_to_json(*quota);
    if (auto cap = flows.cap_state(owner.executable)) out["cap"] = cap_to_json(*cap);
    if (auto cap = flows.global_cap_state()) out["global_cap"] = cap_to_json(*cap);
    return out;
  });

  // Each volume cap as enforcement holds it now: used this period, the limit, reached;
  // the global one first (it counts every program's relayed bytes).
  d.add("quota.status", Access::read, [&flows](const json&, const Caller&) {
    json caps = json::array();
    for (const CapState& c : flows.cap_states()) {
      json row = cap_to_json(c);
      if (c.global) row["global"] = true;
      else row["app"] = c.app;
      caps.push_back(std::move(row));
    }
    return json{{"caps", caps}};
  });

  // A page at a time: thousands of flows do not fit in one frame. A page ends at
  // `limit` flows or when its rows fill half a frame, whichever comes first, so an
  // answer always fits whatever the paths and errors in it; the client asks again
  // with "after": next_after while "more" is true. Ids only grow, so paging by id
  // never repeats a flow or skips one that was there when the listing began.
  d.add("flows.list", Access::read, [&flows](const json& params, const Caller&) {
    FlowQuery query;
    query.after = protocol::optional_param<std::uint64_t>(params, "after", 0);
    query.limit = protocol::optional_param<std::size_t>(params, "limit", kMaxFlowsPerPage);
    if (query.limit < 1) throw RpcError(protocol::kInvalidParams, "parameter 'limit' must be 1 or more", json{{"field", "limit"}});
    query.limit = std::min(query.limit, kMaxFlowsPerPage);
    query.active_only = protocol::optional_param<bool>(params, "active", false);
    if (params.contains("app") && !params["app"].is_null()) query.app = protocol::required_param<std::string>(params, "app");

    const FlowPage page = flows.flows(query);
    protocol::PageRows rows(kMaxFlowsPerPage);
    std::uint64_t last = query.after;
    for (const auto& v : page.flows) {
      if (!rows.add(flow_to_json(v))) break;
      last = v.id;
    }
    if (page.more) rows.set_more();
    const bool more = rows.more();
    return json{{"flows", rows.take()}, {"more", more}, {"next_after", last}};
  });

  // Paged like flows.list, by program path: the per-program table is bounded
  // (FlowManagerOptions::max_apps), but a few thousand long paths are still more than
  // a frame. The totals are over every program, on every page.
  d.add("stats.get", Access::read, [&flows](const json& params, const Caller&) {
    const auto after = protocol::optional_param<std::string>(params, "after", "");
    const auto limit = protocol::optional_param<std::size_t>(params, "limit", kMaxAppsPerPage);
    if (limit < 1) throw RpcError(protocol::kInvalidParams, "parameter 'limit' must be 1 or more", json{{"field", "limit"}});
    protocol::PageRows apps(std::min(limit, kMaxAppsPerPage));
    std::string last = after;
    std::uint64_t up = 0, down = 0, dropped = 0, active = 0;
    double rate_up = 0, rate_down = 0;
    const AppTable table = flows.app_stats();
    for (const auto& s : table.apps) {  // sorted by path
      up += s.bytes_up;
      down += s.bytes_down;
      dropped += s.dropped;
      active += s.flows_active;
      rate_up += s.rate_up;
      rate_down += s.rate_down;
      if (s.app > after && !apps.more() && apps.add(app_to_json(s))) last = s.app;
    }
    const relay::EngineCounters c = flows.engine_counters();
    const bool more = apps.more();
    return json{{"relay_available", flows.relay_available()},
                {"totals",
                 {{"flows_active", active}, {"bytes_up", up}, {"bytes_down", down}, {"dropped", dropped},
                  {"rate_up", rate_json(rate_up)}, {"rate_down", rate_json(rate_down)}, {"programs", table.apps.size()},
                  {"programs_aged_out", table.aged_out}}},
                {"engine",
                 {{"tcp_accepted", c.tcp_accepted}, {"tcp_unexpected", c.tcp_unexpected},
                  {"tcp_connect_failures", c.tcp_connect_failures}, {"tcp_wrong_owner", c.tcp_wrong_owner},
                  {"tcp_idle_closed", c.tcp_idle_closed},
                  {"udp_associations", c.udp_associations},
                  {"udp_dropped", c.udp_dropped}, {"flows_active", c.flows_active},
                  {"volume_closed", c.volume_closed}}},
                {"apps", apps.take()},
                {"more", more},
                {"next_after", last}};
  });
}

}  // namespace sluice::service
