#pragma once

// Policy, quotas, settings, usage and audit in SQLite. Every change runs in one
// transaction together with its audit row, so the audit trail never disagrees with
// the policy. One connection, serialized by a mutex: administrative traffic is
// small, and SQLite allows one writer at a time anyway.

#include <cstdint>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "service/policy/policy_document.h"
#include "service/store/database.h"

namespace sluice::store {

// Who made a change, as the control transport identified them.
struct Actor {
  std::int64_t uid = -1;
  std::string account;
  std::int64_t pid = -1;
  std::string executable;
};

struct UsageDelta {
  std::string app;
  std::string day;  // YYYY-MM-DD, UTC
  std::uint64_t bytes_up = 0, bytes_down = 0, packets_up = 0, packets_down = 0, dropped = 0;
};

struct UsageRow {
  std::string app;
  std::string day;        // empty when summed over days
  std::string first_day;  // earliest day counted
  std::uint64_t bytes_up = 0, bytes_down = 0, packets_up = 0, packets_down = 0, dropped = 0;
};

struct AuditEntry {
  std::int64_t id = 0;
  std::string at;
  std::int64_t uid = -1;
  std::string account;
  std::int64_t pid = -1;
  std::string executable;
  std::string action;
  nlohmann::json detail;
};

enum class ImportMode { replace, merge };

// What an import did (or, for a dry run, would do). Rules are matched by content, so
// a rule the document repeats keeps its id; counts are of what actually changed.
struct ImportResult {
  std::size_t rules_added = 0;     // new rules, with new ids
  std::size_t rules_skipped = 0;   // already present: kept with their ids
  std::size_t rules_updated = 0;   // replace: present with another comment or switch, changed in place
  std::size_t rules_removed = 0;   // replace: not in the document
  bool rules_reordered = false;    // replace: kept rules now in another order
  std::size_t quotas_set = 0, quotas_removed = 0, settings_set = 0;
  // The rules themselves, at most kListedRules of each: added (id 0 in a dry run),
  // removed, and updated as they are after the import.
  std::vector<policy::Rule> added, removed, updated;
  std::vector<policy::Quota> quotas_written;
  std::vector<policy::Quota> quotas_deleted;
  std::map<std::string, std::string> settings_written;
  bool unchanged() const;
};

// An import lists at most this many rules of each kind (in its answer and in its
// audit entry), so both stay far below one control message (1 MiB) for any document.
inline constexpr std::size_t kListedRules = 100;

struct RuleEdit {
  policy::Rule before, after;
  bool changed = false;
};

class PolicyStore {
 public:
  explicit PolicyStore(Database& db) : db_(db) {}

  std::vector<policy::Rule> rules();
  std::optional<policy::Rule> rule(std::int64_t id);
  // Inserts at `position` (1 = first; default and anything past the end: last),
  // shifting later rules down. Returns the stored rule with its id and timestamps.
  policy::Rule add_rule(policy::Rule rule, std::optional<std::int64_t> position, const Actor& actor);
  bool remove_rule(std::int64_t id, const Actor& actor);
  bool set_rule_enabled(std::int64_t id, bool enabled, const Actor& actor);
  // Moves a rule to `position` (clamped to 1..count), keeping positions dense.
  bool move_rule(std::int64_t id, std::int64_t position, const Actor& actor);
  // Makes rule `id` say `rule` (what an administrator sets; its id and created_at
  // stay) and, given a position, moves it there. Nothing is written, not even an
  // audit entry, when that changes nothing, or for a dry run. nullopt: no such rule.
  std::optional<RuleEdit> edit_rule(std::int64_t id, const policy::Rule& rule, std::optional<std::int64_t> position,
                                    const Actor& actor, bool dry_run = false);

  std::vector<policy::Quota> quotas();
  std::optional<policy::Quota> quota(bool global, const std::string& app);
  policy::Quota set_quota(const policy::Quota& quota, const Actor& actor);
  bool clear_quota(bool global, const std::string& app, const Actor& actor);

  std::map<std::string, std::string> settings();
  void set_setting(const std::string& key, const std::string& value, const Actor& actor);

  policy::PolicyDocument export_policy();
  // Applies a document all or nothing. An import that changes nothing writes nothing,
  // not even an audit entry; a dry run reports and writes nothing.
  ImportResult import_policy(const policy::PolicyDocument& document, ImportMode mode, const Actor& actor, bool dry_run = false);

  void add_usage(const std::vector<UsageDelta>& deltas);
  // Usage since `since_day` (inclusive), for one application or all; per day or summed.
  // Rows in a stable order (by_day: program then day; else most bytes first), `limit`
  // at most from `offset` on.
  std::vector<UsageRow> usage(const std::optional<std::string>& app, const std::optional<std::string>& since_day, bool by_day,
                              std::size_t offset = 0, std::size_t limit = SIZE_MAX);

  std::vector<AuditEntry> audit(std::size_t limit, const std::optional<std::string>& since);

 private:
  std::int64_t rule_count();
  void write_audit(const Actor& actor, const std::string& action, const nlohmann::json& detail);
  // Inserts a rule at `position` without shifting others; returns its new id.
  std::int64_t insert_rule(const policy::Rule& rule, std::int64_t position);
  void write_rule_fields(std::int64_t id, const policy::Rule& rule);
  void move_locked(std::int64_t id, std::int64_t from, std::int64_t to);
  std::vector<policy::Rule> rules_locked();
  std::vector<policy::Quota> quotas_locked();
  void upsert_quota(const policy::Quota& quota);
  std::optional<policy::Rule> rule_locked(std::int64_t id);

  Database& db_;
  std::mutex mutex_;
};

}  // namespace sluice::store
