#include "service/store/policy_store.h"

#include <algorithm>
#include <set>

namespace sluice::store {

using nlohmann::json;
using policy::Quota;
using policy::Rule;

namespace {

constexpr const char* kRuleColumns =
    "id, position, enabled, comment, app, user, protocol, destinations, ports, action, rate_up, rate_down, created_at, updated_at, "
    "units";
constexpr const char* kNow = "strftime('%Y-%m-%dT%H:%M:%fZ', 'now')";

std::optional<std::uint64_t> optional_u64(const Statement& s, int column) {
  if (s.column_is_null(column)) return std::nullopt;
  return static_cast<std::uint64_t>(s.column_int64(column));
}

void bind_optional(Statement& s, int index, const std::optional<std::uint64_t>& value) {
  if (value) s.bind(index, static_cast<std::int64_t>(*value));
  else s.bind_null(index);
}

// Rows go through the same reader as documents and RPC parameters, so a rule in
// the database is exactly a rule an administrator could have written.
Rule rule_from_row(const Statement& s) {
  json value{{"enabled", s.column_int64(2) != 0},
             {"comment", s.column_text(3)},
             {"app", s.column_text(4)},
             {"protocol", s.column_text(6)},
             {"destinations", json::parse(s.column_text(7))},
             {"ports", json::parse(s.column_text(8))},
             {"action", s.column_text(9)},
             {"rate", {{"up", s.column_is_null(10) ? json() : json(s.column_int64(10))},
                       {"down", s.column_is_null(11) ? json() : json(s.column_int64(11))}}}};
  if (!s.column_is_null(5)) value["user"] = s.column_text(5);
  value["units"] = json::parse(s.column_text(14), nullptr, false);
  if (value["units"].is_discarded()) value["units"] = json::object();
  Rule rule = policy::rule_from_json(value, "rules[id " + std::to_string(s.column_int64(0)) + "]");
  rule.id = s.column_int64(0);
  rule.position = s.column_int64(1);
  rule.created_at = s.column_text(12);
  rule.updated_at = s.column_text(13);
  return rule;
}

Quota quota_from_row(const Statement& s) {
  Quota q;
  q.global = s.column_text(0) == "global";
  q.app = s.column_text(1);
  q.rate = {optional_u64(s, 2), optional_u64(s, 3)};
  q.burst = {optional_u64(s, 4), optional_u64(s, 5)};
  q.volume_bytes = optional_u64(s, 6);
  if (!s.column_is_null(7)) q.volume_period = policy::parse_volume_period(s.column_text(7));
  if (!s.column_is_null(8)) q.on_exceed = policy::parse_on_exceed(s.column_text(8));
  q.throttle_rate = optional_u64(s, 9);
  q.updated_at = s.column_text(10);
  // Display only, and written by this store from a validated quota: read leniently.
  const json shown = json::parse(s.column_text(11), nullptr, false);
  if (shown.is_object()) {
    for (const auto& [key, unit] : shown.items()) {
      if (unit.is_string()) q.units[key] = unit.get<std::string>();
    }
  }
  return q;
}

json rule_summary(const Rule& rule) {
  json j = policy::rule_to_json(rule);
  j.erase("created_at");
  j.erase("updated_at");
  return j;
}

json quota_summary(const Quota& quota) {
  json j = policy::quota_to_json(quota);
  j.erase("updated_at");
  return j;
}

// At most kListedRules of `rules` as JSON, and how many were left out.
json listed(const std::vector<Rule>& rules) {
  json out = json::array();
  for (const Rule& r : rules) out.push_back(rule_summary(r));
  return out;
}

void keep_listed(std::vector<Rule>& list, const Rule& rule) {
  if (list.size() < kListedRules) list.push_back(rule);
}

}  // namespace

std::int64_t PolicyStore::rule_count() {
  auto s = db_.prepare("SELECT count(*) FROM rules");
  s.step();
  return s.column_int64(0);
}

std::vector<Rule> PolicyStore::rules() {
  std::lock_guard lock(mutex_);
  return rules_locked();
}

std::vector<Rule> PolicyStore::rules_locked() {
  std::vector<Rule> out;
  auto s = db_.prepare(std::string("SELECT ") + kRuleColumns + " FROM rules ORDER BY position");
  while (s.step()) out.push_back(rule_from_row(s));
  return out;
}

std::optional<Rule> PolicyStore::rule_locked(std::int64_t id) {
  auto s = db_.prepare(std::string("SELECT ") + kRuleColumns + " FROM rules WHERE id = ?");
  s.bind(1, id);
  if (!s.step()) return std::nullopt;
  return rule_from_row(s);
}

std::optional<Rule> PolicyStore::rule(std::int64_t id) {
  std::lock_guard lock(mutex_);
  return rule_locked(id);
}

void PolicyStore::write_audit(const Actor& actor, const std::string& action, const json& detail) {
  auto s = db_.prepare(std::string("INSERT INTO audit (at, uid, account, pid, executable, action, detail) VALUES (") + kNow +
                       ", ?, ?, ?, ?, ?, ?)");
  if (actor.uid >= 0) s.bind(1, actor.uid);
  else s.bind_null(1);
  s.bind(2, actor.account);
  if (actor.pid >= 0) s.bind(3, actor.pid);
  else s.bind_null(3);
  s.bind(4, actor.executable).bind(5, action).bind(6, detail.dump());
  s.step();
}

std::int64_t PolicyStore::insert_rule(const Rule& rule, std::int64_t position) {
  auto s = db_.prepare(std::string("INSERT INTO rules (position, app, protocol, action, created_at, updated_at) "
                                   "VALUES (?, '', 'any', 'direct', ") +
                       kNow + ", " + kNow + ")");
  s.bind(1, position).step();
  const std::int64_t id = db_.last_insert_rowid();
  write_rule_fields(id, rule);
  return id;
}

// Every field an administrator sets, in one place for add, edit and import.
void PolicyStore::write_rule_fields(std::int64_t id, const Rule& rule) {
  const json j = policy::rule_to_json(rule);
  auto s = db_.prepare(
      "UPDATE rules SET enabled = ?, comment = ?, app = ?, user = ?, protocol = ?, destinations = ?, ports = ?, action = ?, "
      "rate_up = ?, rate_down = ?, units = ? WHERE id = ?");
  s.bind(1, std::int64_t{rule.enabled}).bind(2, rule.comment).bind(3, rule.app);
  if (rule.user) s.bind(4, *rule.user);
  else s.bind_null(4);
  s.bind(5, j["protocol"].get<std::string>()).bind(6, j["destinations"].dump()).bind(7, j["ports"].dump());
  s.bind(8, j["action"].get<std::string>());
  bind_optional(s, 9, rule.rate.up);
  bind_optional(s, 10, rule.rate.down);
  s.bind(11, json(rule.units).dump());
  s.bind(12, id);
  s.step();
}

Rule PolicyStore::add_rule(Rule rule, std::optional<std::int64_t> position, const Actor& actor) {
  std::lock_guard lock(mutex_);
  return db_.transaction([&] {
    const std::int64_t id = insert_rule(rule, rule_count() + 1);
    const std::int64_t count = rule_count();
    const std::int64_t target = std::clamp<std::int64_t>(position.value_or(count), 1, count);
    if (target != count) {
      auto shift = db_.prepare("UPDATE rules SET position = position + 1 WHERE position >= ? AND id != ?");
      shift.bind(1, target).bind(2, id).step();
      auto place = db_.prepare("UPDATE rules SET position = ? WHERE id = ?");
      place.bind(1, target).bind(2, id).step();
    }
    Rule stored = *rule_locked(id);
    write_audit(actor, "rule.add", rule_summary(stored));
    return stored;
  });
}

bool PolicyStore::remove_rule(std::int64_t id, const Actor& actor) {
  std::lock_guard lock(mutex_);
  return db_.transaction([&] {
    auto existing = rule_locked(id);
    if (!existing) return false;
    db_.prepare("DELETE FROM rules WHERE id = ?").bind(1, id).step();
    db_.prepare("UPDATE rules SET position = position - 1 WHERE position > ?").bind(1, existing->position).step();
    write_audit(actor, "rule.remove", rule_summary(*existing));
    return true;
  });
}

bool PolicyStore::set_rule_enabled(std::int64_t id, bool enabled, const Actor& actor) {
  std::lock_guard lock(mutex_);
  return db_.transaction([&] {
    if (!rule_locked(id)) return false;
    db_.prepare(std::string("UPDATE rules SET enabled = ?, updated_at = ") + kNow + " WHERE id = ?")
        .bind(1, std::int64_t{enabled})
        .bind(2, id)
        .step();
    write_audit(actor, enabled ? "rule.enable" : "rule.disable", json{{"id", id}});
    return true;
  });
}

void PolicyStore::move_locked(std::int64_t id, std::int64_t from, std::int64_t to) {
  if (to < from) {
    db_.prepare("UPDATE rules SET position = position + 1 WHERE position >= ? AND position < ?").bind(1, to).bind(2, from).step();
  } else if (to > from) {
    db_.prepare("UPDATE rules SET position = position - 1 WHERE position > ? AND position <= ?").bind(1, from).bind(2, to).step();
  }
  db_.prepare(std::string("UPDATE rules SET position = ?, updated_at = ") + kNow + " WHERE id = ?").bind(1, to).bind(2, id).step();
}

bool PolicyStore::move_rule(std::int64_t id, std::int64_t position, const Actor& actor) {
  std::lock_guard lock(mutex_);
  return db_.transaction([&] {
    auto existing = rule_locked(id);
    if (!existing) return false;
    const std::int64_t from = existing->position;
    const std::int64_t to = std::clamp<std::int64_t>(position, 1, rule_count());
    move_locked(id, from, to);
    write_audit(actor, "rule.move", json{{"id", id}, {"from", from}, {"to", to}});
    return true;
  });
}

std::optional<RuleEdit> PolicyStore::edit_rule(std::int64_t id, const Rule& rule, std::optional<std::int64_t> position,
                                               const Actor& actor, bool dry_run) {
  std::lock_guard lock(mutex_);
  return db_.transaction([&]() -> std::optional<RuleEdit> {
    auto existing = rule_locked(id);
    if (!existing) return std::nullopt;
    RuleEdit edit{*existing, rule, false};
    edit.after.id = id;
    edit.after.position = position ? std::clamp<std::int64_t>(*position, 1, rule_count()) : existing->position;
    edit.after.created_at = existing->created_at;
    edit.after.updated_at = existing->updated_at;
    edit.changed = !policy::same_content(*existing, rule) || edit.after.position != existing->position;
    if (!edit.changed || dry_run) return edit;
    write_rule_fields(id, rule);
    db_.prepare(std::string("UPDATE rules SET updated_at = ") + kNow + " WHERE id = ?").bind(1, id).step();
    if (edit.after.position != existing->position) move_locked(id, existing->position, edit.after.position);
    edit.after = *rule_locked(id);
    write_audit(actor, "rule.edit", json{{"id", id}, {"before", rule_summary(edit.before)}, {"after", rule_summary(edit.after)}});
    return edit;
  });
}

std::vector<Quota> PolicyStore::quotas() {
  std::lock_guard lock(mutex_);
  return quotas_locked();
}

std::vector<Quota> PolicyStore::quotas_locked() {
  std::vector<Quota> out;
  auto s = db_.prepare(
      "SELECT scope, app, rate_up, rate_down, burst_up, burst_down, volume_bytes, volume_period, on_exceed, throttle_rate, "
      "updated_at, units FROM quotas ORDER BY scope DESC, app");
  while (s.step()) out.push_back(quota_from_row(s));
  return out;
}

std::optional<Quota> PolicyStore::quota(bool global, const std::string& app) {
  std::lock_guard lock(mutex_);
  auto s = db_.prepare(
      "SELECT scope, app, rate_up, rate_down, burst_up, burst_down, volume_bytes, volume_period, on_exceed, throttle_rate, "
      "updated_at, units FROM quotas WHERE scope = ? AND app = ?");
  s.bind(1, std::string_view(global ? "global" : "app")).bind(2, global ? std::string() : app);
  if (!s.step()) return std::nullopt;
  return quota_from_row(s);
}

void PolicyStore::upsert_quota(const Quota& q) {
  auto s = db_.prepare(std::string("INSERT OR REPLACE INTO quotas (scope, app, rate_up, rate_down, burst_up, burst_down, "
                                   "volume_bytes, volume_period, on_exceed, throttle_rate, units, updated_at) "
                                   "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ") +
                       kNow + ")");
  s.bind(1, std::string_view(q.global ? "global" : "app")).bind(2, q.global ? std::string() : q.app);
  bind_optional(s, 3, q.rate.up);
  bind_optional(s, 4, q.rate.down);
  bind_optional(s, 5, q.burst.up);
  bind_optional(s, 6, q.burst.down);
  bind_optional(s, 7, q.volume_bytes);
  if (q.volume_bytes) s.bind(8, std::string_view(policy::to_string(q.volume_period.value_or(policy::VolumePeriod::day))));
  else s.bind_null(8);
  if (q.volume_bytes) s.bind(9, std::string_view(policy::to_string(q.on_exceed.value_or(policy::OnExceed::block))));
  else s.bind_null(9);
  bind_optional(s, 10, q.throttle_rate);
  s.bind(11, json(q.units).dump());
  s.step();
}

Quota PolicyStore::set_quota(const Quota& quota, const Actor& actor) {
  {
    std::lock_guard lock(mutex_);
    db_.transaction([&] {
      upsert_quota(quota);
      json detail = policy::quota_to_json(quota);
      detail.erase("updated_at");
      write_audit(actor, "quota.set", detail);
    });
  }
  return *this->quota(quota.global, quota.app);
}

bool PolicyStore::clear_quota(bool global, const std::string& app, const Actor& actor) {
  std::lock_guard lock(mutex_);
  return db_.transaction([&] {
    auto s = db_.prepare("DELETE FROM quotas WHERE scope = ? AND app = ?");
    s.bind(1, std::string_view(global ? "global" : "app")).bind(2, global ? std::string() : app).step();
    if (db_.changes() == 0) return false;
    write_audit(actor, "quota.clear", global ? json{{"global", true}} : json{{"app", app}});
    return true;
  });
}

std::map<std::string, std::string> PolicyStore::settings() {
  std::lock_guard lock(mutex_);
  std::map<std::string, std::string> out;
  auto s = db_.prepare("SELECT key, value FROM settings ORDER BY key");
  while (s.step()) out[s.column_text(0)] = s.column_text(1);
  return out;
}

void PolicyStore::set_setting(const std::string& key, const std::string& value, const Actor& actor) {
  std::lock_guard lock(mutex_);
  db_.transaction([&] {
    db_.prepare(std::string("INSERT OR REPLACE INTO settings (key, value, updated_at) VALUES (?, ?, ") + kNow + ")")
        .bind(1, key)
        .bind(2, value)
        .step();
    write_audit(actor, "setting.set", json{{"key", key}, {"value", value}});
  });
}

policy::PolicyDocument PolicyStore::export_policy() {
  policy::PolicyDocument document;
  document.rules = rules();
  document.quotas = quotas();
  for (const auto& [key, value] : settings()) {
    if (std::find(policy::setting_keys().begin(), policy::setting_keys().end(), key) != policy::setting_keys().end()) {
      document.settings[key] = value;
    }
  }
  return document;
}

bool ImportResult::unchanged() const {
  return rules_added == 0 && rules_updated == 0 && rules_removed == 0 && !rules_reordered && quotas_set == 0 &&
         quotas_removed == 0 && settings_set == 0;
}

// Rules are matched by content, not by position or by the ids a document may carry
// (they are another machine's): a rule the policy already has keeps its id, so ids in
// the audit trail and in scripts go on naming the same rule after any import.
ImportResult PolicyStore::import_policy(const policy::PolicyDocument& document, ImportMode mode, const Actor& actor,
                                        bool dry_run) {
  std::lock_guard lock(mutex_);
  return db_.transaction([&] {
    ImportResult result;
    const std::vector<Rule> existing = rules_locked();
    const std::size_t n = document.rules.size();
    if (mode == ImportMode::replace) {
      // match[i]: the existing rule document rule i keeps. First every rule that says
      // exactly the same, then rules that differ only in comment or switch.
      std::vector<std::optional<std::size_t>> match(n);
      std::vector<bool> taken(existing.size(), false);
      for (auto alike : {policy::same_content, policy::decides_alike}) {
        for (std::size_t i = 0; i < n; ++i) {
          if (match[i]) continue;
          for (std::size_t e = 0; e < existing.size(); ++e) {
            if (!taken[e] && alike(existing[e], document.rules[i])) {
              match[i] = e;
              taken[e] = true;
              break;
            }
          }
        }
      }
      for (std::size_t e = 0; e < existing.size(); ++e) {
        if (taken[e]) continue;
        ++result.rules_removed;
        keep_listed(result.removed, existing[e]);
        if (!dry_run) db_.prepare("DELETE FROM rules WHERE id = ?").bind(1, existing[e].id).step();
      }
      std::optional<std::size_t> previous;
      for (std::size_t i = 0; i < n; ++i) {
        const auto position = static_cast<std::int64_t>(i + 1);
        Rule rule = document.rules[i];
        rule.position = position;
        if (!match[i]) {
          rule.id = dry_run ? 0 : insert_rule(rule, position);
          ++result.rules_added;
          keep_listed(result.added, rule);
          continue;
        }
        const Rule& kept = existing[*match[i]];
        if (previous && *match[i] < *previous) result.rules_reordered = true;
        previous = match[i];
        ++result.rules_skipped;
        const bool update = !policy::same_content(kept, rule);
        if (update) {
          ++result.rules_updated;
          rule.id = kept.id;
          keep_listed(result.updated, rule);
        }
        if (dry_run) continue;
        if (update) {
          write_rule_fields(kept.id, rule);
          db_.prepare(std::string("UPDATE rules SET updated_at = ") + kNow + " WHERE id = ?").bind(1, kept.id).step();
        }
        if (kept.position != position) db_.prepare("UPDATE rules SET position = ? WHERE id = ?").bind(1, position).bind(2, kept.id).step();
      }
      result.rules_skipped -= result.rules_updated;
    } else {
      std::int64_t position = static_cast<std::int64_t>(existing.size());
      for (const Rule& rule : document.rules) {
        const bool present =
            std::any_of(existing.begin(), existing.end(), [&](const Rule& r) { return policy::decides_alike(r, rule); });
        if (present) {
          ++result.rules_skipped;
          continue;
        }
        Rule added = rule;
        added.position = ++position;
        added.id = dry_run ? 0 : insert_rule(added, added.position);
        ++result.rules_added;
        keep_listed(result.added, added);
      }
    }

    // Quotas and settings are written only where they differ, so an import of what
    // is already there leaves their timestamps, the audit trail and the generation.
    std::map<std::pair<bool, std::string>, Quota> current;
    for (const Quota& q : quotas_locked()) current[{q.global, q.app}] = q;
    std::set<std::pair<bool, std::string>> in_document;
    for (const Quota& quota : document.quotas) {
      const std::pair<bool, std::string> key{quota.global, quota.global ? std::string() : quota.app};
      in_document.insert(key);
      auto it = current.find(key);
      if (it != current.end() && quota_summary(it->second) == quota_summary(quota)) continue;
      current[key] = quota;
      ++result.quotas_set;
      if (result.quotas_written.size() < kListedRules) result.quotas_written.push_back(quota);
      if (!dry_run) upsert_quota(quota);
    }
    if (mode == ImportMode::replace) {
      for (const auto& [key, quota] : current) {
        if (in_document.contains(key)) continue;
        ++result.quotas_removed;
        if (result.quotas_deleted.size() < kListedRules) result.quotas_deleted.push_back(quota);
        if (!dry_run) {
          db_.prepare("DELETE FROM quotas WHERE scope = ? AND app = ?")
              .bind(1, std::string_view(key.first ? "global" : "app"))
              .bind(2, key.second)
              .step();
        }
      }
    }
    std::map<std::string, std::string> settings_now;
    {
      auto s = db_.prepare("SELECT key, value FROM settings");
      while (s.step()) settings_now[s.column_text(0)] = s.column_text(1);
    }
    for (const auto& [key, value] : document.settings) {
      if (auto it = settings_now.find(key); it != settings_now.end() && it->second == value) continue;
      ++result.settings_set;
      result.settings_written[key] = value;
      if (dry_run) continue;
      db_.prepare(std::string("INSERT OR REPLACE INTO settings (key, value, updated_at) VALUES (?, ?, ") + kNow + ")")
          .bind(1, key)
          .bind(2, value)
          .step();
    }
    if (dry_run || result.unchanged()) return result;

    json quotas_set = json::array(), quotas_removed = json::array();
    for (const Quota& q : result.quotas_written) quotas_set.push_back(quota_summary(q));
    for (const Quota& q : result.quotas_deleted) quotas_removed.push_back(quota_summary(q));
    write_audit(actor, "policy.import",
                json{{"mode", mode == ImportMode::replace ? "replace" : "merge"},
                     {"rules_added", result.rules_added},
                     {"rules_skipped", result.rules_skipped},
                     {"rules_updated", result.rules_updated},
                     {"rules_removed", result.rules_removed},
                     {"rules_reordered", result.rules_reordered},
                     {"quotas_set", result.quotas_set},
                     {"quotas_removed", result.quotas_removed},
                     {"settings_set", result.settings_set},
                     {"added", listed(result.added)},
                     {"updated", listed(result.updated)},
                     {"removed", listed(result.removed)},
                     {"quotas", {{"set", quotas_set}, {"removed", quotas_removed}}},
                     {"settings", result.settings_written},
                     {"listed_at_most", kListedRules}});
    return result;
  });
}

void PolicyStore::add_usage(const std::vector<UsageDelta>& deltas) {
  if (deltas.empty()) return;
  std::lock_guard lock(mutex_);
  db_.transaction([&] {
    auto s = db_.prepare(
        "INSERT INTO usage_daily (app, day, bytes_up, bytes_down, packets_up, packets_down, dropped) "
        "VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT (app, day) DO UPDATE SET "
        "bytes_up = bytes_up + excluded.bytes_up, bytes_down = bytes_down + excluded.bytes_down, "
        "packets_up = packets_up + excluded.packets_up, packets_down = packets_down + excluded.packets_down, "
        "dropped = dropped + excluded.dropped");
    for (const auto& d : deltas) {
      s.reset();
      s.bind(1, d.app).bind(2, d.day);
      s.bind(3, static_cast<std::int64_t>(d.bytes_up)).bind(4, static_cast<std::int64_t>(d.bytes_down));
      s.bind(5, static_cast<std::int64_t>(d.packets_up)).bind(6, static_cast<std::int64_t>(d.packets_down));
      s.bind(7, static_cast<std::int64_t>(d.dropped));
      s.step();
    }
  });
}

std::vector<UsageRow> PolicyStore::usage(const std::optional<std::string>& app, const std::optional<std::string>& since_day,
                                         bool by_day, std::size_t offset, std::size_t limit) {
  std::lock_guard lock(mutex_);
  std::string sql = std::string("SELECT app, ") + (by_day ? "day" : "''") +
                    ", min(day), sum(bytes_up), sum(bytes_down), sum(packets_up), sum(packets_down), sum(dropped) "
                    "FROM usage_daily WHERE (?1 IS NULL OR app = ?1) AND (?2 IS NULL OR day >= ?2) GROUP BY app" +
                    (by_day ? ", day ORDER BY app, day" : " ORDER BY sum(bytes_up) + sum(bytes_down) DESC, app") +
                    " LIMIT ?3 OFFSET ?4";
  auto s = db_.prepare(sql);
  if (app) s.bind(1, *app);
  if (since_day) s.bind(2, *since_day);
  s.bind(3, limit > static_cast<std::size_t>(INT64_MAX) ? std::int64_t{-1} : static_cast<std::int64_t>(limit));
  s.bind(4, static_cast<std::int64_t>(std::min<std::size_t>(offset, INT64_MAX)));
  std::vector<UsageRow> out;
  while (s.step()) {
    out.push_back(UsageRow{s.column_text(0), s.column_text(1), s.column_text(2),
                           static_cast<std::uint64_t>(s.column_int64(3)), static_cast<std::uint64_t>(s.column_int64(4)),
                           static_cast<std::uint64_t>(s.column_int64(5)), static_cast<std::uint64_t>(s.column_int64(6)),
                           static_cast<std::uint64_t>(s.column_int64(7))});
  }
  return out;
}

std::vector<AuditEntry> PolicyStore::audit(std::size_t limit, const std::optional<std::string>& since) {
  std::lock_guard lock(mutex_);
  auto s = db_.prepare(
      "SELECT id, at, uid, account, pid, executable, action, detail FROM audit WHERE (?1 IS NULL OR at >= ?1) "
      "ORDER BY id DESC LIMIT ?2");
  if (since) s.bind(1, *since);
  s.bind(2, static_cast<std::int64_t>(limit));
  std::vector<AuditEntry> out;
  while (s.step()) {
    out.push_back(AuditEntry{s.column_int64(0), s.column_text(1), s.column_is_null(2) ? -1 : s.column_int64(2),
                             s.column_text(3), s.column_is_null(4) ? -1 : s.column_int64(4), s.column_text(5),
                             s.column_text(6), json::parse(s.column_text(7), nullptr, false)});
  }
  return out;
}

}  // namespace sluice::store
