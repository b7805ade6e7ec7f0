#include "service/rpc/policy_methods.h"

#include <algorithm>
#include <set>

#include "control/protocol/paging.h"
#include "service/policy/address.h"
#include "service/policy/policy_document.h"
#include "service/rpc/policy_warnings.h"
#include "service/rpc/program_paths.h"

namespace sluice::service {

using protocol::Access;
using protocol::Caller;
using protocol::json;
using protocol::RpcError;

namespace {

constexpr std::size_t kMaxUsageRowsPerPage = 1000;

store::Actor actor_of(const Caller& caller) { return store::Actor{caller.uid, caller.account, caller.pid, caller.executable}; }

// Validation problems in parameters become "invalid params" naming the field.
template <class F>
auto validated(F&& read) {
  try {
    return read();
  } catch (const policy::DocumentError& e) {
    throw RpcError(protocol::kInvalidParams, e.what(), json{{"field", e.path()}});
  }
}

std::int64_t rule_id_param(const json& params) {
  const auto id = protocol::required_param<std::int64_t>(params, "id");
  if (id <= 0) throw RpcError(protocol::kInvalidParams, "parameter 'id' must be a positive rule id", json{{"field", "id"}});
  return id;
}

std::optional<std::int64_t> position_param(const json& params) {
  if (!params.contains("position") || params["position"].is_null()) return std::nullopt;
  const auto position = protocol::required_param<std::int64_t>(params, "position");
  if (position < 1) throw RpcError(protocol::kInvalidParams, "parameter 'position' must be 1 or more", json{{"field", "position"}});
  return position;
}

json rules_json(const std::vector<policy::Rule>& rules) {
  json out = json::array();
  for (const auto& r : rules) out.push_back(policy::rule_to_json(r));
  return out;
}

// A rule as rule.list and rule.get show it: with its hit counter.
json listed_rule_json(const policy::Rule& rule, const PublishedPolicy& policy) {
  json out = policy::rule_to_json(rule);
  out["hits"] = policy.hits(rule.id);
  return out;
}

// The rule's program made the path the kernel reports (service/rpc/program_paths.h); the
// path typed is kept in the comment when it differed. Returns the resolution's warnings.
std::vector<std::string> resolve_rule_app(policy::Rule& rule, const std::string& where) {
  ResolvedProgram resolved = validated([&] { return resolve_program(rule.app, where); });
  if (resolved.changed()) rule.comment = comment_with_typed_path(rule.comment, resolved.typed);
  rule.app = resolved.app;
  return std::move(resolved.warnings);
}

void append(std::vector<std::string>& to, std::vector<std::string> more) {
  to.insert(to.end(), std::make_move_iterator(more.begin()), std::make_move_iterator(more.end()));
}

// What an answer says of the path resolution and of the settings that do nothing.
void add_resolution(json& out, const std::string& typed, const std::string& app, const std::vector<std::string>& warnings) {
  out["typed_app"] = typed;
  out["app"] = app;
  out["warnings"] = warnings;
}

[[noreturn]] void no_such_rule(std::int64_t id) {
  throw RpcError(protocol::kNotFound, "no rule with id " + std::to_string(id), json{{"id", id}});
}

// A date parameter: YYYY-MM-DD.
std::optional<std::string> date_param(const json& params, const char* field) {
  auto value = protocol::optional_param<std::string>(params, field, "");
  if (value.empty()) return std::nullopt;
  try {
    policy::period_start(policy::VolumePeriod::day, value);
  } catch (const std::exception&) {
    throw RpcError(protocol::kInvalidParams, std::string("parameter '") + field + "': '" + value + "' is not a date (YYYY-MM-DD)",
                   json{{"field", field}});
  }
  return value;
}

// The quota target in params: {"app": PATH} or {"global": true}.
std::pair<bool, std::string> quota_target(const json& params) {
  const bool global = protocol::optional_param<bool>(params, "global", false);
  const std::string app = protocol::optional_param<std::string>(params, "app", "");
  if (global == !app.empty()) {
    throw RpcError(protocol::kInvalidParams, "give either 'app' (a full executable path) or 'global': true", json{{"field", "app"}});
  }
  return {global, app};
}

json usage_row_to_json(const store::UsageRow& row) {
  json j{{"app", row.app}, {"bytes_up", row.bytes_up}, {"bytes_down", row.bytes_down}, {"packets_up", row.packets_up},
         {"packets_down", row.packets_down}, {"dropped", row.dropped}};
  if (!row.day.empty()) j["day"] = row.day;
  else j["since"] = row.first_day;
  return j;
}

void register_rule_methods(protocol::Dispatcher& d, PublishedPolicy& policy) {
  d.add("rule.list", Access::read, [&policy](const json& params, const Caller&) {
    auto snapshot = policy.snapshot();
    const auto offset = protocol::optional_param<std::size_t>(params, "offset", 0);
    const auto limit = std::min(protocol::optional_param<std::size_t>(params, "limit", kMaxRulesPerPage), kMaxRulesPerPage);
    json rules = json::array();
    for (std::size_t i = offset; i < snapshot->rules.size() && i < offset + limit; ++i) {
      rules.push_back(listed_rule_json(snapshot->rules[i], policy));
    }
    return json{{"rules", rules}, {"total", snapshot->rules.size()}, {"offset", offset}, {"generation", snapshot->generation}};
  });

  d.add("rule.get", Access::read, [&policy](const json& params, const Caller&) {
    const auto id = rule_id_param(params);
    auto rule = policy.store().rule(id);
    if (!rule) no_such_rule(id);
    return json{{"rule", listed_rule_json(*rule, policy)}};
  });

  d.add("rule.add", Access::admin, [&policy](const json& params, const Caller& caller) {
    policy::Rule rule = validated([&] { return policy::rule_from_json(protocol::required_param<json>(params, "rule"), "rule"); });
    const std::string typed = rule.app;
    std::vector<std::string> warnings = resolve_rule_app(rule, "rule.app");
    const auto position = position_param(params);
    auto snapshot = policy.snapshot();
    const auto count = static_cast<std::int64_t>(snapshot->rules.size());
    const auto at = std::clamp<std::int64_t>(position.value_or(count + 1), 1, count + 1);
    append(warnings, rule_warnings(rule, static_cast<std::size_t>(at - 1), snapshot->rules, policy.options()));
    refuse_if_strict(params, warnings);
    if (protocol::optional_param<bool>(params, "dry_run", false)) {
      // What the rule would be, where it would go, and whether the policy already has it.
      rule.position = at;
      json out{{"dry_run", true}, {"rule", policy::rule_to_json(rule)}, {"duplicate_of", nullptr}};
      out["rule"]["id"] = nullptr;
      for (const auto& r : snapshot->rules) {
        if (policy::decides_alike(r, rule)) {
          out["duplicate_of"] = r.id;
          break;
        }
      }
      add_resolution(out, typed, rule.app, warnings);
      return out;
    }
    policy::Rule stored = policy.store().add_rule(std::move(rule), position, actor_of(caller));
    policy.reload();
    json out{{"rule", policy::rule_to_json(stored)}};
    add_resolution(out, typed, stored.app, warnings);
    return out;
  });

  // Changes the fields given and keeps the others, like quota.set: {"rate": {"up": X}}
  // leaves the down rate; null removes the user or a rate; [] means any destination
  // or port. The id stays, so the audit trail and scripts go on naming the rule.
  d.add("rule.edit", Access::admin, [&policy](const json& params, const Caller& caller) {
    const auto id = rule_id_param(params);
    const json changes = protocol::required_param<json>(params, "rule");
    if (!changes.is_object()) {
      throw RpcError(protocol::kInvalidParams, "parameter 'rule' must be an object of the fields to change", json{{"field", "rule"}});
    }
    const auto position = position_param(params);
    const bool dry_run = protocol::optional_param<bool>(params, "dry_run", false);
    auto existing = policy.store().rule(id);
    if (!existing) no_such_rule(id);
    json merged = policy::rule_to_json(*existing);
    for (const char* field : {"id", "position", "created_at", "updated_at"}) {
      if (changes.contains(field)) {
        throw RpcError(protocol::kInvalidParams, std::string("rule.") + field + ": set by the service, not by an edit",
                       json{{"field", std::string("rule.") + field}});
      }
      merged.erase(field);
    }
    for (const auto& [field, value] : changes.items()) {
      if (field == "rate" && value.is_object() && merged["rate"].is_object()) {
        for (const auto& [direction, amount] : value.items()) merged["rate"][direction] = amount;
      } else {
        merged[field] = value;
      }
    }
    policy::Rule rule = validated([&] { return policy::rule_from_json(merged, "rule"); });
    // A new program is resolved like rule.add's; one left alone keeps its stored path.
    const std::string typed = rule.app;
    std::vector<std::string> warnings;
    if (changes.contains("app")) {
      if (!changes.contains("comment")) rule.comment = comment_with_typed_path(rule.comment, "");  // the old note was the old path's
      warnings = resolve_rule_app(rule, "rule.app");
    }
    {
      auto snapshot = policy.snapshot();
      std::vector<policy::Rule> others;
      std::size_t index = 0;
      for (const auto& r : snapshot->rules) {
        if (r.id == id) index = others.size();
        else others.push_back(r);
      }
      if (position) index = static_cast<std::size_t>(std::min<std::int64_t>(*position - 1, static_cast<std::int64_t>(others.size())));
      append(warnings, rule_warnings(rule, index, others, policy.options()));
    }
    refuse_if_strict(params, warnings);
    auto edit = policy.store().edit_rule(id, rule, position, actor_of(caller), dry_run);
    if (!edit) no_such_rule(id);
    if (edit->changed && !dry_run) policy.reload();
    json out{{"rule", policy::rule_to_json(edit->after)},
             {"before", policy::rule_to_json(edit->before)},
             {"changed", edit->changed},
             {"dry_run", dry_run}};
    add_resolution(out, typed, edit->after.app, warnings);
    return out;
  });

  d.add("rule.remove", Access::admin, [&policy](const json& params, const Caller& caller) {
    const auto id = rule_id_param(params);
    if (!policy.store().remove_rule(id, actor_of(caller))) no_such_rule(id);
    policy.reload();
    return json{{"removed", id}};
  });

  d.add("rule.set_enabled", Access::admin, [&policy](const json& params, const Caller& caller) {
    const auto id = rule_id_param(params);
    const bool enabled = protocol::required_param<bool>(params, "enabled");
    if (!policy.store().set_rule_enabled(id, enabled, actor_of(caller))) no_such_rule(id);
    policy.reload();
    return json{{"rule", policy::rule_to_json(*policy.store().rule(id))}};
  });

  d.add("rule.move", Access::admin, [&policy](const json& params, const Caller& caller) {
    const auto id = rule_id_param(params);
    const auto position = protocol::required_param<std::int64_t>(params, "position");
    if (position < 1) throw RpcError(protocol::kInvalidParams, "parameter 'position' must be 1 or more", json{{"field", "position"}});
    if (!policy.store().move_rule(id, position, actor_of(caller))) no_such_rule(id);
    policy.reload();
    return json{{"rule", policy::rule_to_json(*policy.store().rule(id))}};
  });
}

void register_quota_methods(protocol::Dispatcher& d, PublishedPolicy& policy) {
  d.add("quota.list", Access::read, [&policy](const json&, const Caller&) {
    json quotas = json::array();
    for (const auto& q : policy.store().quotas()) quotas.push_back(policy::quota_to_json(q));
    return json{{"quotas", quotas}};
  });

  // Sets the fields given and keeps the others: `quota set --rate-down X` then
  // `quota set --volume Y` leaves both. A field given as null is removed.
  d.add("quota.set", Access::admin, [&policy](const json& params, const Caller& caller) {
    // Named, not a structured binding: the lambda below captures it (clang 14 cannot).
    const auto target = quota_target(params);
    const bool global = target.first;
    const std::string& typed = target.second;
    ResolvedProgram resolved{typed, typed, {}};
    if (!global) resolved = validated([&] { return resolve_program(typed, "app"); });
    const std::string& app = resolved.app;
    json merged = global ? json{{"global", true}} : json{{"app", app}};
    if (auto existing = policy.store().quota(global, app)) {
      merged = policy::quota_to_json(*existing);
      merged.erase("updated_at");
    }
    for (const char* field : {"rate", "burst"}) {
      if (!params.contains(field)) continue;
      if (!params[field].is_object()) {
        throw RpcError(protocol::kInvalidParams, std::string("parameter '") + field + "' must be {\"up\": .., \"down\": ..}",
                       json{{"field", field}});
      }
      if (!merged[field].is_object()) merged[field] = json::object();
      for (const auto& [direction, value] : params[field].items()) merged[field][direction] = value;
    }
    if (params.contains("volume")) merged["volume"] = params["volume"];
    // Removing the last limit of a quota removes the quota: `quota set --volume none`
    // on a volume-only quota is how a cap is lifted, not "a quota that sets no limit".
    const auto given = [&](const char* field, const char* direction) {
      return merged.contains(field) && merged[field].is_object() && merged[field].contains(direction) &&
             !merged[field][direction].is_null();
    };
    const bool limits_left = given("rate", "up") || given("rate", "down") || (merged.contains("volume") && !merged["volume"].is_null());
    if (!limits_left && policy.store().quota(global, app)) {
      policy.store().clear_quota(global, app, actor_of(caller));
      policy.reload();
      json out{{"quota", nullptr}, {"cleared", global ? json("global") : json(app)}};
      if (!global) add_resolution(out, typed, app, {});
      return out;
    }
    policy::Quota quota = validated([&] { return policy::quota_from_json(merged, "quota"); });
    std::vector<std::string> warnings = std::move(resolved.warnings);
    {
      auto snapshot = policy.snapshot();
      append(warnings, quota_warnings(quota, snapshot->rules, snapshot->default_action, policy.options()));
    }
    refuse_if_strict(params, warnings);
    policy::Quota stored = policy.store().set_quota(quota, actor_of(caller));
    policy.reload();
    json out{{"quota", policy::quota_to_json(stored)}};
    add_resolution(out, typed, stored.app, warnings);
    return out;
  });

  d.add("quota.clear", Access::admin, [&policy](const json& params, const Caller& caller) {
    auto [global, typed] = quota_target(params);
    // The quota was stored under the resolved path; one written before paths were
    // resolved is under the path as typed.
    const std::string resolved = global ? typed : resolve_program_leniently(typed);
    std::string app = resolved;
    if (!global && resolved != typed && !policy.store().quota(false, resolved)) app = typed;
    if (!policy.store().clear_quota(global, app, actor_of(caller))) {
      throw RpcError(protocol::kNotFound, global ? "there is no global quota" : "no quota for " + app);
    }
    policy.reload();
    return json{{"cleared", global ? json("global") : json(app)}};
  });
}

// An imported document's programs resolved as rule.add and quota.set resolve them,
// and its warnings: each rule against the document's rules before and after it (what
// a merge keeps of the current policy aside), each quota against the rules it will be
// enforced with. Throws DocumentError for a path that cannot be a program here.
std::vector<std::string> resolve_and_check_document(policy::PolicyDocument& document, bool replace, PublishedPolicy& policy) {
  std::vector<std::string> warnings;
  for (std::size_t i = 0; i < document.rules.size(); ++i) {
    const std::string where = "rules[" + std::to_string(i) + "]";
    for (auto& w : resolve_rule_app(document.rules[i], where + ".app")) warnings.push_back(where + ": " + w);
  }
  std::set<std::string> quota_apps;
  for (std::size_t i = 0; i < document.quotas.size(); ++i) {
    auto& quota = document.quotas[i];
    if (quota.global) continue;
    const std::string where = "quotas[" + std::to_string(i) + "].app";
    ResolvedProgram resolved = validated([&] { return resolve_program(quota.app, where); });
    for (auto& w : resolved.warnings) warnings.push_back("quotas[" + std::to_string(i) + "]: " + w);
    quota.app = resolved.app;
    // Two paths that are one program ("/bin/curl", "/usr/bin/curl") are two quotas for it.
    if (!quota_apps.insert(policy.quota_key(quota.app)).second) {
      throw RpcError(protocol::kInvalidParams, where + ": a second quota for " + quota.app + " (after resolving '" + resolved.typed + "')",
                     json{{"field", where}});
    }
  }
  // Named by their place in the document, not by ids an exported document may carry.
  std::vector<policy::Rule> ordered = document.rules;
  for (std::size_t i = 0; i < ordered.size(); ++i) {
    ordered[i].id = 0;
    ordered[i].position = static_cast<std::int64_t>(i + 1);
  }
  for (std::size_t i = 0; i < ordered.size(); ++i) {
    std::vector<policy::Rule> others = ordered;
    others.erase(others.begin() + static_cast<std::ptrdiff_t>(i));
    append(warnings, rule_warnings(ordered[i], i, others, policy.options(), "rules[" + std::to_string(i) + "]"));
  }
  auto snapshot = policy.snapshot();
  std::vector<policy::Rule> enforced = document.rules;
  if (!replace) enforced.insert(enforced.end(), snapshot->rules.begin(), snapshot->rules.end());
  policy::Action default_action = snapshot->default_action;
  if (auto it = document.settings.find("default_action"); it != document.settings.end()) {
    default_action = policy::parse_action(it->second).value_or(default_action);
  }
  for (std::size_t i = 0; i < document.quotas.size(); ++i) {
    for (auto& w : quota_warnings(document.quotas[i], enforced, default_action, policy.options())) {
      warnings.push_back("quotas[" + std::to_string(i) + "]: " + w);
    }
  }
  return warnings;
}

void register_policy_document_methods(protocol::Dispatcher& d, PublishedPolicy& policy) {
  d.add("settings.get", Access::read, [&policy](const json&, const Caller&) {
    return json{{"settings", policy::settings_to_json(policy.snapshot()->settings)}};
  });

  d.add("settings.set", Access::admin, [&policy](const json& params, const Caller& caller) {
    const auto key = protocol::required_param<std::string>(params, "key");
    const auto typed = protocol::required_param<std::string>(params, "value");
    // Stored normalized: "BLOCK" is kept as "block", so what is shown, exported and
    // compared is one spelling.
    const std::string value = validated([&] { return policy::normalize_setting(key, typed, ""); });
    policy.store().set_setting(key, value, actor_of(caller));
    policy.reload();
    return json{{"key", key}, {"value", policy::setting_to_json(key, value)}};
  });

  // Settings and quotas, plus the rules when they fit one answer; otherwise the
  // client pages rule.list at the same generation.
  d.add("policy.export", Access::read, [&policy](const json&, const Caller&) {
    auto snapshot = policy.snapshot();
    policy::PolicyDocument document;
    for (const auto& key : policy::setting_keys()) {
      if (auto it = snapshot->settings.find(key); it != snapshot->settings.end()) document.settings[key] = it->second;
    }
    document.quotas = policy.store().quotas();
    const bool complete = snapshot->rules.size() <= kMaxRulesPerPage;
    if (complete) document.rules = snapshot->rules;
    return json{{"document", policy::document_to_json(document)},
                {"rules_included", complete},
                {"rule_count", snapshot->rules.size()},
                {"generation", snapshot->generation}};
  });

  d.add("policy.import", Access::admin, [&policy](const json& params, const Caller& caller) {
    const auto mode_text = protocol::optional_param<std::string>(params, "mode", "merge");
    if (mode_text != "replace" && mode_text != "merge") {
      throw RpcError(protocol::kInvalidParams, "parameter 'mode': '" + mode_text + "' is not replace or merge", json{{"field", "mode"}});
    }
    // Everything is validated before anything is written: a bad document changes nothing.
    policy::PolicyDocument document =
        validated([&] { return policy::document_from_json(protocol::required_param<json>(params, "document")); });
    const bool dry_run = protocol::optional_param<bool>(params, "dry_run", false);
    const bool replace = mode_text == "replace";
    const std::vector<std::string> warnings = resolve_and_check_document(document, replace, policy);
    refuse_if_strict(params, warnings);
    const auto result = policy.store().import_policy(
        document, mode_text == "replace" ? store::ImportMode::replace : store::ImportMode::merge, actor_of(caller), dry_run);
    // Nothing changed, nothing published: the generation is the policy's, not the calls'.
    if (!dry_run && !result.unchanged()) policy.reload();
    json quotas_set = json::array(), quotas_removed = json::array();
    for (const auto& q : result.quotas_written) quotas_set.push_back(policy::quota_to_json(q));
    for (const auto& q : result.quotas_deleted) quotas_removed.push_back(policy::quota_to_json(q));
    return json{{"mode", mode_text},
                {"dry_run", dry_run},
                {"unchanged", result.unchanged()},
                {"rules_added", result.rules_added},
                {"rules_skipped", result.rules_skipped},
                {"rules_updated", result.rules_updated},
                {"rules_removed", result.rules_removed},
                {"rules_reordered", result.rules_reordered},
                {"quotas_set", result.quotas_set},
                {"quotas_removed", result.quotas_removed},
                {"settings_set", result.settings_set},
                {"added", rules_json(result.added)},
                {"updated", rules_json(result.updated)},
                {"removed", rules_json(result.removed)},
                {"quotas", {{"set", quotas_set}, {"removed", quotas_removed}}},
                {"settings", policy::settings_to_json(result.settings_written)},
                {"warnings", warnings},
                {"listed_at_most", store::kListedRules},
                {"generation", policy.snapshot()->generation}};
  });

  // policy.check is flow_methods.cpp's: it decides with the volume caps, as flow.register does.
}

void register_usage_and_audit_methods(protocol::Dispatcher& d, PublishedPolicy& policy, UsageFlusher& flusher) {
  d.add("usage.show", Access::read, [&policy, &flusher](const json& params, const Caller&) {
    flusher.flush();  // include what was counted since the last interval
    const auto app = protocol::optional_param<std::string>(params, "app", "");
    const auto since = date_param(params, "since");
    const bool by_day = protocol::optional_param<bool>(params, "by_day", false);
    // Paged (protocol/paging.h): one row per program, and any user can run programs
    // under as many paths as they like.
    const auto offset = protocol::optional_param<std::size_t>(params, "offset", 0);
    const auto limit = std::min(protocol::optional_param<std::size_t>(params, "limit", kMaxUsageRowsPerPage), kMaxUsageRowsPerPage);
    if (limit < 1) throw RpcError(protocol::kInvalidParams, "parameter 'limit' must be 1 or more", json{{"field", "limit"}});
    const auto found = policy.store().usage(app.empty() ? std::nullopt : std::optional(app), since, by_day, offset, limit + 1);
    protocol::PageRows rows(limit);
    for (const auto& row : found) {
      if (!rows.add(usage_row_to_json(row))) break;
    }
    const bool more = rows.more();
    const std::size_t next = offset + rows.size();
    return json{{"usage", rows.take()}, {"days", "UTC"}, {"more", more}, {"next_offset", next}};
  });

  d.add("audit.list", Access::read, [&policy](const json& params, const Caller&) {
    const auto limit = protocol::optional_param<std::size_t>(params, "limit", 50);
    const auto since = date_param(params, "since");
    json entries = json::array();
    for (const auto& e : policy.store().audit(std::min<std::size_t>(limit, 10000), since)) {
      entries.push_back(json{{"id", e.id}, {"at", e.at}, {"uid", e.uid < 0 ? json() : json(e.uid)}, {"account", e.account},
                             {"pid", e.pid < 0 ? json() : json(e.pid)}, {"executable", e.executable}, {"action", e.action},
                             {"detail", e.detail}});
    }
    return json{{"entries", entries}};
  });
}

}  // namespace

void register_policy_methods(protocol::Dispatcher& dispatcher, PublishedPolicy& policy, UsageFlusher& flusher) {
  register_rule_methods(dispatcher, policy);
  register_quota_methods(dispatcher, policy);
  register_policy_document_methods(dispatcher, policy);
  register_usage_and_audit_methods(dispatcher, policy, flusher);
}

}  // namespace sluice::service
