#pragma once

// The policy as JSON: what rule.list/rule.add and the quota methods exchange, and
// the versioned document of policy export/import. Reading validates everything and
// reports the first problem with its place ("rules[3].destinations[1]: ...").

#include <map>
#include <stdexcept>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "service/policy/quota.h"
#include "service/policy/rule.h"

namespace sluice::policy {

using json = nlohmann::json;

inline constexpr int kDocumentVersion = 1;

class DocumentError : public std::invalid_argument {
 public:
  DocumentError(std::string path, const std::string& problem)
      : std::invalid_argument(path.empty() ? problem : path + ": " + problem), path_(std::move(path)) {}
  // Where the problem is, e.g. "rules[3].destinations[1]" ("" for the whole document).
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

struct PolicyDocument {
  std::map<std::string, std::string> settings;
  std::vector<Rule> rules;     // in evaluation order
  std::vector<Quota> quotas;
};

json rule_to_json(const Rule& rule);
// Reads the fields an administrator may set (not id/position/timestamps). Sizes and
// rates may be numbers (bytes, bytes/s) or unit strings ("1.5MiB/s").
Rule rule_from_json(const json& value, const std::string& path);

json quota_to_json(const Quota& quota);
Quota quota_from_json(const json& value, const std::string& path);

json document_to_json(const PolicyDocument& document);
PolicyDocument document_from_json(const json& value);

// Settings an administrator may change, and what each accepts. Throws DocumentError
// naming the key or the value. normalize_setting returns the value as it is stored,
// so what is shown and compared is one spelling: "BLOCK" -> "block", "0250" -> "250".
std::string normalize_setting(const std::string& key, const std::string& value, const std::string& path);
void validate_setting(const std::string& key, const std::string& value, const std::string& path);
// Settings as JSON answers carry them: numbers as numbers (provider_timeout_ms).
json setting_to_json(const std::string& key, const std::string& value);
json settings_to_json(const std::map<std::string, std::string>& settings);
const std::vector<std::string>& setting_keys();

}  // namespace sluice::policy
