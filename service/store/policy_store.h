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

struct ImportResult {
  std::size_t rules_added = 0, rules_skipped = 0, quotas_set = 0, settings_set = 0, rules_removed = 0, quotas_removed = 0;
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

  std::vector<policy::Quota> quotas();
  std::optional<policy::Quota> quota(bool global, const std::string& app);
  policy::Quota set_quota(const policy::Quota& quota, const Actor& actor);
  bool clear_quota(bool global, const std::string& app, const Actor& actor);

  std::map<std::string, std::string> settings();
  void set_setting(const std::string& key, const std::string& value, const Actor& actor);

  policy::PolicyDocument export_policy();
  ImportResult import_policy(const policy::PolicyDocument& document, ImportMode mode, const Actor& actor);

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
  void insert_rule_at_end(const policy::Rule& rule);
  void upsert_quota(const policy::Quota& quota);
  std::optional<policy::Rule> rule_locked(std::int64_t id);

  Database& db_;
  std::mutex mutex_;
};

}  // namespace sluice::store
