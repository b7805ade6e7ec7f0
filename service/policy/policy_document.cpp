#include "service/policy/policy_document.h"

#include <algorithm>
#include <cctype>
#include <set>

#include "common/units.h"
#include "service/policy/address.h"
#include "service/policy/glob.h"

namespace sluice::policy {
namespace {

std::string at(const std::string& path, const std::string& field) { return path.empty() ? field : path + "." + field; }
std::string at(const std::string& path, std::size_t index) { return path + "[" + std::to_string(index) + "]"; }

void expect_object(const json& value, const std::string& path, std::initializer_list<const char*> allowed) {
  if (!value.is_object()) throw DocumentError(path, std::string("expected an object, got ") + value.type_name());
  for (const auto& [key, _] : value.items()) {
    bool known = false;
    for (const char* a : allowed) known = known || key == a;
    if (!known) throw DocumentError(at(path, key), "unknown field");
  }
}

std::string read_string(const json& value, const std::string& path) {
  if (!value.is_string()) throw DocumentError(path, std::string("expected a string, got ") + value.type_name());
  return value.get<std::string>();
}

// The units of a rule's or quota's amounts as given ({"rate.up": "MB"}), for the
// amounts `keys` names. A unit the amount's own text carries wins over these.
using Units = std::map<std::string, std::string>;
Units read_units(const json& object, const std::string& path, std::initializer_list<const char*> keys) {
  Units out;
  if (!object.contains("units") || object["units"].is_null()) return out;
  const std::string where = at(path, "units");
  expect_object(object["units"], where, keys);
  for (const auto& [key, unit] : object["units"].items()) {
    if (unit.is_null()) continue;
    const std::string text = read_string(unit, at(where, key));
    if (!units::is_unit(text)) throw DocumentError(at(where, key), "'" + text + "' is not a unit (B, kB, MB, GB, TB, KiB, MiB, GiB, TiB, bit, kbit, Mbit, Gbit)");
    out[key] = text;
  }
  return out;
}

// Bytes or bytes/s: a positive integer (bytes), or a string with its unit ("10GB",
// "1.5MiB/s"; a bare "4096" is refused), whose unit is kept in `shown[key]`.
std::optional<std::uint64_t> read_amount(const json& object, const char* field, const std::string& path, bool rate, Units& shown,
                                         const std::string& key) {
  if (!object.contains(field) || object[field].is_null()) {
    shown.erase(key);  // no amount, nothing to show in a unit
    return std::nullopt;
  }
  const json& value = object[field];
  const std::string where = at(path, field);
  if (value.is_number_unsigned() || value.is_number_integer()) {
    if (value.is_number_integer() && value.get<std::int64_t>() <= 0) throw DocumentError(where, "must be greater than 0");
    return value.get<std::uint64_t>();
  }
  if (!value.is_string()) throw DocumentError(where, std::string("expected a number or a string with units, got ") + value.type_name());
  try {
    const units::TypedAmount amount =
        rate ? units::parse_rate_as_typed(value.get<std::string>()) : units::parse_size_as_typed(value.get<std::string>());
    if (amount.value == 0) throw DocumentError(where, "must be greater than 0");
    shown[key] = amount.unit;
    return amount.value;
  } catch (const units::UnitError& e) {
    throw DocumentError(where, e.what());
  }
}

Rates read_rates(const json& object, const char* field, const std::string& path, bool rate, Units& shown) {
  const std::string up_key = std::string(field) + ".up", down_key = std::string(field) + ".down";
  if (!object.contains(field) || object[field].is_null()) {
    shown.erase(up_key);
    shown.erase(down_key);
    return {};
  }
  const json& value = object[field];
  const std::string where = at(path, field);
  expect_object(value, where, {"up", "down"});
  return Rates{read_amount(value, "up", where, rate, shown, up_key), read_amount(value, "down", where, rate, shown, down_key)};
}

json rates_to_json(const Rates& rates) {
  return json{{"up", rates.up ? json(*rates.up) : json()}, {"down", rates.down ? json(*rates.down) : json()}};
}

bool is_absolute_path(const std::string& path) {
  if (path.starts_with("/") || path.starts_with("\\\\")) return true;
  return path.size() >= 3 && std::isalpha(static_cast<unsigned char>(path[0])) && path[1] == ':' &&
         (path[2] == '\\' || path[2] == '/');
}

std::string read_app(const json& value, const std::string& path) {
  std::string app = read_string(value, path);
  if (app.empty()) throw DocumentError(path, "the application is empty (use \"**\" for every program)");
  if (!is_glob(app) && !is_absolute_path(app)) {
    throw DocumentError(path, "'" + app + "' is neither a full executable path nor a glob");
  }
  return app;
}

}  // namespace

json rule_to_json(const Rule& rule) {
  json destinations = json::array(), ports = json::array();
  for (const auto& cidr : rule.destinations) destinations.push_back(format_cidr(cidr));
  for (const auto& range : rule.ports) ports.push_back(format_port_range(range));
  return json{{"id", rule.id},
              {"position", rule.position},
              {"enabled", rule.enabled},
              {"comment", rule.comment},
              {"app", rule.app},
              {"user", rule.user ? json(*rule.user) : json()},
              {"protocol", to_string(rule.protocol)},
              {"destinations", destinations},
              {"ports", ports},
              {"action", to_string(rule.action)},
              {"rate", rates_to_json(rule.rate)},
              {"units", rule.units},
              {"created_at", rule.created_at},
              {"updated_at", rule.updated_at}};
}

Rule rule_from_json(const json& value, const std::string& path) {
  expect_object(value, path, {"id", "position", "enabled", "comment", "app", "user", "protocol", "destinations", "ports",
                              "action", "rate", "units", "created_at", "updated_at"});
  Rule rule;
  if (!value.contains("action")) throw DocumentError(at(path, "action"), "missing (direct, relay or block)");
  const std::string action = read_string(value["action"], at(path, "action"));
  auto parsed_action = parse_action(action);
  if (!parsed_action) throw DocumentError(at(path, "action"), "'" + action + "' is not direct, relay or block");
  rule.action = *parsed_action;

  if (value.contains("app")) rule.app = read_app(value["app"], at(path, "app"));
  if (value.contains("enabled")) {
    if (!value["enabled"].is_boolean()) throw DocumentError(at(path, "enabled"), "expected true or false");
    rule.enabled = value["enabled"].get<bool>();
  }
  if (value.contains("comment") && !value["comment"].is_null()) rule.comment = read_string(value["comment"], at(path, "comment"));
  if (value.contains("user") && !value["user"].is_null()) {
    rule.user = read_string(value["user"], at(path, "user"));
    if (rule.user->empty()) throw DocumentError(at(path, "user"), "the user is empty (leave it out for every user)");
  }
  if (value.contains("protocol")) {
    const std::string protocol = read_string(value["protocol"], at(path, "protocol"));
    auto parsed = parse_protocol(protocol);
    if (!parsed) throw DocumentError(at(path, "protocol"), "'" + protocol + "' is not tcp, udp or any");
    rule.protocol = *parsed;
  }
  if (value.contains("destinations")) {
    const json& list = value["destinations"];
    if (!list.is_array()) throw DocumentError(at(path, "destinations"), "expected a list of addresses or CIDRs");
    for (std::size_t i = 0; i < list.size(); ++i) {
      const std::string where = at(at(path, "destinations"), i);
      const std::string text = read_string(list[i], where);
      auto cidr = parse_cidr(text);
      if (!cidr) throw DocumentError(where, "'" + text + "' is not an IPv4/IPv6 address or CIDR");
      rule.destinations.push_back(*cidr);
    }
  }
  if (value.contains("ports")) {
    const json& list = value["ports"];
    if (!list.is_array()) throw DocumentError(at(path, "ports"), "expected a list of ports or ranges");
    for (std::size_t i = 0; i < list.size(); ++i) {
      const std::string where = at(at(path, "ports"), i);
      const std::string text = list[i].is_number_integer() ? std::to_string(list[i].get<std::int64_t>()) : read_string(list[i], where);
      auto range = parse_port_range(text);
      if (!range) throw DocumentError(where, "'" + text + "' is not a port (1-65535) or a range like 8000-8100");
      rule.ports.push_back(*range);
    }
  }
  rule.units = read_units(value, path, {"rate.up", "rate.down"});
  rule.rate = read_rates(value, "rate", path, /*rate=*/true, rule.units);
  return rule;
}

json quota_to_json(const Quota& quota) {
  json out = quota.global ? json{{"global", true}} : json{{"app", quota.app}};
  out["rate"] = rates_to_json(quota.rate);
  out["burst"] = rates_to_json(quota.burst);
  if (quota.volume_bytes) {
    out["volume"] = json{{"bytes", *quota.volume_bytes},
                         {"period", to_string(quota.volume_period.value_or(VolumePeriod::day))},
                         {"on_exceed", to_string(quota.on_exceed.value_or(OnExceed::block))},
                         {"throttle_rate", quota.throttle_rate ? json(*quota.throttle_rate) : json()}};
  } else {
    out["volume"] = nullptr;
  }
  out["units"] = quota.units;
  out["updated_at"] = quota.updated_at;
  return out;
}

Quota quota_from_json(const json& value, const std::string& path) {
  expect_object(value, path, {"app", "global", "rate", "burst", "volume", "units", "updated_at"});
  Quota quota;
  const bool global = value.contains("global") && value["global"] == true;
  if (value.contains("global") && !value["global"].is_boolean()) throw DocumentError(at(path, "global"), "expected true or false");
  if (global == value.contains("app")) {
    throw DocumentError(path, "a quota names either an \"app\" (full executable path) or \"global\": true");
  }
  quota.global = global;
  if (!global) {
    quota.app = read_app(value["app"], at(path, "app"));
    if (is_glob(quota.app)) throw DocumentError(at(path, "app"), "quotas apply to one program: give its full path, not a glob");
  }
  quota.units = read_units(value, path, {"rate.up", "rate.down", "burst.up", "burst.down", "volume.bytes", "volume.throttle_rate"});
  quota.rate = read_rates(value, "rate", path, /*rate=*/true, quota.units);
  quota.burst = read_rates(value, "burst", path, /*rate=*/false, quota.units);
  if (value.contains("volume") && !value["volume"].is_null()) {
    const json& volume = value["volume"];
    const std::string where = at(path, "volume");
    expect_object(volume, where, {"bytes", "period", "on_exceed", "throttle_rate"});
    quota.volume_bytes = read_amount(volume, "bytes", where, /*rate=*/false, quota.units, "volume.bytes");
    if (!quota.volume_bytes) throw DocumentError(at(where, "bytes"), "missing: how many bytes per period");
    const std::string period = volume.contains("period") ? read_string(volume["period"], at(where, "period")) : "day";
    quota.volume_period = parse_volume_period(period);
    if (!quota.volume_period) throw DocumentError(at(where, "period"), "'" + period + "' is not day, week or month");
    const std::string on_exceed = volume.contains("on_exceed") ? read_string(volume["on_exceed"], at(where, "on_exceed")) : "block";
    quota.on_exceed = parse_on_exceed(on_exceed);
    if (!quota.on_exceed) throw DocumentError(at(where, "on_exceed"), "'" + on_exceed + "' is not block or throttle");
    quota.throttle_rate = read_amount(volume, "throttle_rate", where, /*rate=*/true, quota.units, "volume.throttle_rate");
    if (*quota.on_exceed == OnExceed::throttle && !quota.throttle_rate) {
      throw DocumentError(at(where, "throttle_rate"), "missing: throttle needs the rate to throttle to");
    }
    if (*quota.on_exceed == OnExceed::block && quota.throttle_rate) {
      throw DocumentError(at(where, "throttle_rate"), "only meaningful with on_exceed throttle");
    }
  }
  if (!quota.volume_bytes) {
    quota.units.erase("volume.bytes");
    quota.units.erase("volume.throttle_rate");
  }
  if (!quota.rate.up && !quota.rate.down && !quota.volume_bytes) {
    throw DocumentError(path, "the quota sets no limit (give a rate or a volume)");
  }
  if ((quota.burst.up && !quota.rate.up) || (quota.burst.down && !quota.rate.down)) {
    throw DocumentError(at(path, "burst"), "a burst needs a rate in the same direction");
  }
  return quota;
}

const std::vector<std::string>& setting_keys() {
  static const std::vector<std::string> keys = {"default_action", "fail_mode", "provider_timeout_ms"};
  return keys;
}

std::string normalize_setting(const std::string& key, const std::string& value, const std::string& path) {
  const std::string where = at(path, key);
  if (key == "default_action") {
    auto action = parse_action(value);
    if (!action) throw DocumentError(where, "'" + value + "' is not direct, relay or block");
    return to_string(*action);
  }
  if (key == "fail_mode") {
    // The providers compare the word: "CLOSED" stored as typed would be neither.
    std::string lower = value;
    for (auto& c : lower) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    if (lower != "open" && lower != "closed") throw DocumentError(where, "'" + value + "' is not open or closed");
    return lower;
  }
  if (key == "provider_timeout_ms") {
    // Digits only: std::stoll alone would take " 250" and "+250".
    const bool digits = !value.empty() && value.size() <= 5 &&
                        std::all_of(value.begin(), value.end(), [](char c) { return c >= '0' && c <= '9'; });
    const long long ms = digits ? std::stoll(value) : -1;
    if (ms < 1 || ms > 60000) throw DocumentError(where, "'" + value + "' is not a number of milliseconds from 1 to 60000");
    return std::to_string(ms);
  }
  throw DocumentError(where, "unknown setting (known: default_action, fail_mode, provider_timeout_ms)");
}

void validate_setting(const std::string& key, const std::string& value, const std::string& path) {
  (void)normalize_setting(key, value, path);
}

json setting_to_json(const std::string& key, const std::string& value) {
  if (key == "provider_timeout_ms") {
    const bool digits = !value.empty() && value.size() <= 18 &&
                        std::all_of(value.begin(), value.end(), [](char c) { return c >= '0' && c <= '9'; });
    if (digits) return std::stoll(value);
  }
  return value;
}

json settings_to_json(const std::map<std::string, std::string>& settings) {
  json out = json::object();
  for (const auto& [key, value] : settings) out[key] = setting_to_json(key, value);
  return out;
}

json document_to_json(const PolicyDocument& document) {
  json rules = json::array(), quotas = json::array();
  for (const auto& rule : document.rules) {
    // Ids, positions and timestamps belong to one database; a document's order is
    // its array's, so export, import, export gives the same text.
    json r = rule_to_json(rule);
    for (const char* field : {"id", "position", "created_at", "updated_at"}) r.erase(field);
    if (r["units"].empty()) r.erase("units");  // amounts in bytes: nothing to say
    rules.push_back(std::move(r));
  }
  for (const auto& quota : document.quotas) {
    json q = quota_to_json(quota);
    q.erase("updated_at");
    if (q["units"].empty()) q.erase("units");
    quotas.push_back(std::move(q));
  }
  return json{{"sluice_policy", kDocumentVersion}, {"settings", settings_to_json(document.settings)}, {"rules", rules}, {"quotas", quotas}};
}

PolicyDocument document_from_json(const json& value) {
  if (!value.is_object() || !value.contains("sluice_policy")) {
    throw DocumentError("", "not a Sluice policy document (no \"sluice_policy\" version field)");
  }
  expect_object(value, "", {"sluice_policy", "exported_at", "settings", "rules", "quotas"});
  // Compared as JSON numbers: get<int>() would read 4294967297 as 1.
  if (!value["sluice_policy"].is_number_integer() || value["sluice_policy"] != kDocumentVersion) {
    throw DocumentError("sluice_policy", "version " + value["sluice_policy"].dump() + " is not supported (this sluiced reads version " +
                                             std::to_string(kDocumentVersion) + ")");
  }
  PolicyDocument document;
  if (value.contains("settings")) {
    const json& settings = value["settings"];
    if (!settings.is_object()) throw DocumentError("settings", "expected an object");
    for (const auto& [key, v] : settings.items()) {
      const std::string text = v.is_string() ? v.get<std::string>() : v.dump();
      document.settings[key] = normalize_setting(key, text, "settings");
    }
  }
  if (value.contains("rules")) {
    if (!value["rules"].is_array()) throw DocumentError("rules", "expected a list");
    for (std::size_t i = 0; i < value["rules"].size(); ++i) document.rules.push_back(rule_from_json(value["rules"][i], at("rules", i)));
  }
  if (value.contains("quotas")) {
    if (!value["quotas"].is_array()) throw DocumentError("quotas", "expected a list");
    std::set<std::string> seen;
    for (std::size_t i = 0; i < value["quotas"].size(); ++i) {
      Quota quota = quota_from_json(value["quotas"][i], at("quotas", i));
      const std::string key = quota.global ? std::string("\0global", 7) : quota.app;
      if (!seen.insert(key).second) {
        throw DocumentError(at("quotas", i), quota.global ? "a second global quota" : "a second quota for " + quota.app);
      }
      document.quotas.push_back(std::move(quota));
    }
  }
  return document;
}

}  // namespace sluice::policy
