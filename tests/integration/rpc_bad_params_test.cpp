// Every registered JSON-RPC method, fed parameters of the wrong JSON type, out of
// range or missing, answers "invalid params" (-32602) naming the field; never an
// internal error. The dispatcher and its handlers are the service's own, registered
// the way run_service registers them, over a real database; the caller is an
// administrator so the access check does not hide what the handler does.
#include <gtest/gtest.h>

#include <set>

#include <spdlog/spdlog.h>

#include "common/platform/platform.h"
#include "service/flows/flow_manager.h"
#include "service/flows/policy_snapshot.h"
#include "service/process/config_reload.h"
#include "service/rpc/flow_methods.h"
#include "service/rpc/policy_methods.h"
#include "service/rpc/status_methods.h"
#include "service/store/database.h"
#include "service/store/migrations.h"
#include "tests/support/program_path.h"
#include "tests/support/temp_dir.h"

namespace sluice::service {
namespace {

using namespace std::chrono_literals;
using protocol::json;

// What a field holds, and so which wrong values it is fed.
enum class Kind { id, count, flow_id, port, local_port, text, flag, object, date, address, hello };

std::vector<json> wrong_values(Kind kind) {
  switch (kind) {
    case Kind::id: return {"1", json::object(), json::array(), true, 1.5, 1e300, -1, 0, 18446744073709551615ULL};
    case Kind::count: return {"1", json::object(), json::array(), true, 2.5, -1, -9223372036854775807LL};
    case Kind::flow_id: return {"1", json::object(), true, 1.5, -1};
    case Kind::port: return {"80", json::object(), true, 80.5, -1, 0, 70000, 18446744073709551615ULL};
    case Kind::local_port: return {"80", json::object(), true, -1, 65536};
    case Kind::text: return {5, json::object(), json::array(), true};
    case Kind::flag: return {"true", 1, json::object(), json::array()};
    case Kind::object: return {"x", 5, json::array(), true};
    case Kind::date: return {5, json::object(), "notadate", "2024-13-45", "yesterday"};
    case Kind::address: return {5, json::object(), "10.0.0.300", "example.com", ""};
    case Kind::hello: return {"1", 5, json::array(), json{{"major", "1"}}, json{{"minor", 0}}};
  }
  return {};
}

struct Field {
  const char* name;
  Kind kind;
  bool required;
};

struct MethodCase {
  const char* method;
  json valid;  // accepted as to their types (the call may still fail: not found, ...)
  std::vector<Field> fields;
};

const std::vector<MethodCase>& method_cases() {
  static const std::vector<MethodCase> cases = {
      {"sluice.hello", {{"protocol", {{"major", 1}, {"minor", 0}}}}, {{"protocol", Kind::hello, true}}},
      {"service.status", json::object(), {}},
      {"service.reload", json::object(), {}},
      {"rule.list", {{"offset", 0}, {"limit", 10}}, {{"offset", Kind::count, false}, {"limit", Kind::count, false}}},
      {"rule.get", {{"id", 1}}, {{"id", Kind::id, true}}},
      {"rule.add",
       {{"rule", {{"action", "block"}}}, {"position", 1}, {"dry_run", true}},
       {{"rule", Kind::object, true}, {"position", Kind::id, false}, {"dry_run", Kind::flag, false}}},
      {"rule.remove", {{"id", 1}}, {{"id", Kind::id, true}}},
      {"rule.set_enabled", {{"id", 1}, {"enabled", true}}, {{"id", Kind::id, true}, {"enabled", Kind::flag, true}}},
      {"rule.edit",
       {{"id", 1}, {"rule", {{"action", "block"}}}, {"position", 1}, {"dry_run", true}},
       {{"id", Kind::id, true}, {"rule", Kind::object, true}, {"position", Kind::id, false}, {"dry_run", Kind::flag, false}}},
      {"rule.move", {{"id", 1}, {"position", 1}}, {{"id", Kind::id, true}, {"position", Kind::id, true}}},
      {"quota.list", json::object(), {}},
      {"quota.status", json::object(), {}},
      {"quota.set",
       {{"app", test::program_path("curl")}, {"rate", {{"up", "1MiB/s"}}}},
       {{"app", Kind::text, true}, {"rate", Kind::object, false}, {"burst", Kind::object, false}, {"volume", Kind::object, false}}},
      {"quota.clear", {{"app", test::program_path("curl")}}, {{"app", Kind::text, true}}},
      {"quota.clear", {{"global", true}}, {{"global", Kind::flag, false}}},
      {"settings.get", json::object(), {}},
      {"settings.set", {{"key", "fail_mode"}, {"value", "open"}}, {{"key", Kind::text, true}, {"value", Kind::text, true}}},
      {"policy.export", json::object(), {}},
      {"policy.import",
       {{"document", {{"sluice_policy", 1}}}, {"mode", "merge"}, {"dry_run", true}},
       {{"document", Kind::object, true}, {"mode", Kind::text, false}, {"dry_run", Kind::flag, false}}},
      {"policy.check",
       {{"app", test::program_path("curl")}, {"destination", "192.0.2.1"}, {"port", 80}, {"protocol", "tcp"}, {"user", "root"}},
       {{"app", Kind::text, true}, {"destination", Kind::address, true}, {"port", Kind::port, true},
        {"protocol", Kind::text, false}, {"user", Kind::text, false}}},
      {"usage.show",
       {{"app", test::program_path("curl")}, {"since", "2024-01-01"}, {"by_day", true}},
       {{"app", Kind::text, false}, {"since", Kind::date, false}, {"by_day", Kind::flag, false}}},
      {"audit.list", {{"limit", 5}, {"since", "2024-01-01"}}, {{"limit", Kind::count, false}, {"since", Kind::date, false}}},
      {"flow.register",
       {{"protocol", "tcp"}, {"destination", "192.0.2.1"}, {"port", 80}, {"local", "127.0.0.1"}, {"local_port", 40000}},
       {{"protocol", Kind::text, true}, {"destination", Kind::address, true}, {"port", Kind::port, true},
        {"local", Kind::address, true}, {"local_port", Kind::local_port, true}}},
      {"flow.release", {{"flow_id", 1}}, {{"flow_id", Kind::flow_id, true}}},
      {"flows.list",
       {{"after", 0}, {"limit", 5}, {"active", true}, {"app", test::program_path("curl")}},
       {{"after", Kind::flow_id, false}, {"limit", Kind::count, false}, {"active", Kind::flag, false}, {"app", Kind::text, false}}},
      {"stats.get", json::object(), {}},
  };
  return cases;
}

// Wrong values inside the structured parameters, with the path the answer must name.
struct NestedCase {
  const char* method;
  json params;
  const char* names;
};

const std::vector<NestedCase>& nested_cases() {
  static const std::vector<NestedCase> cases = {
      {"rule.add", {{"rule", {{"action", 5}}}}, "rule.action"},
      {"rule.add", {{"rule", {{"action", "block"}, {"enabled", "yes"}}}}, "rule.enabled"},
      {"rule.add", {{"rule", {{"action", "block"}, {"app", 5}}}}, "rule.app"},
      {"rule.add", {{"rule", {{"action", "block"}, {"user", json::object()}}}}, "rule.user"},
      {"rule.add", {{"rule", {{"action", "block"}, {"protocol", true}}}}, "rule.protocol"},
      {"rule.add", {{"rule", {{"action", "block"}, {"destinations", "10.0.0.0/8"}}}}, "rule.destinations"},
      {"rule.add", {{"rule", {{"action", "block"}, {"destinations", {"10.0.0.300/8"}}}}}, "rule.destinations[0]"},
      {"rule.add", {{"rule", {{"action", "block"}, {"ports", json::object()}}}}, "rule.ports"},
      {"rule.add", {{"rule", {{"action", "block"}, {"ports", {70000}}}}}, "rule.ports[0]"},
      {"rule.add", {{"rule", {{"action", "block"}, {"rate", "fast"}}}}, "rule.rate"},
      {"rule.add", {{"rule", {{"action", "relay"}, {"rate", {{"down", "fast"}}}}}}, "rule.rate.down"},
      {"rule.add", {{"rule", {{"action", "relay"}, {"rate", {{"up", -1}}}}}}, "rule.rate.up"},
      {"rule.add", {{"rule", {{"action", "block"}, {"comment", 5}}}}, "rule.comment"},
      {"quota.set", {{"app", test::program_path("curl")}, {"rate", {{"up", json::object()}}}}, "rate.up"},
      {"quota.set", {{"app", test::program_path("curl")}, {"rate", {{"up", 1.5}}}}, "rate.up"},
      {"quota.set", {{"app", test::program_path("curl")}, {"rate", {{"sideways", "1MiB/s"}}}}, "rate"},
      {"quota.set", {{"app", test::program_path("curl")}, {"volume", {{"bytes", json::array()}}}}, "volume.bytes"},
      {"quota.set", {{"app", test::program_path("curl")}, {"volume", {{"bytes", "1GB"}, {"period", 5}}}}, "volume.period"},
      {"quota.set", {{"app", test::program_path("curl")}, {"volume", {{"bytes", "1GB"}, {"on_exceed", "explode"}}}}, "volume.on_exceed"},
      {"quota.set", {{"global", "yes"}, {"rate", {{"up", "1MiB/s"}}}}, "global"},
      {"policy.import", {{"document", {{"sluice_policy", "1"}}}}, "sluice_policy"},
      {"policy.import", {{"document", {{"sluice_policy", 1}, {"rules", "all"}}}}, "rules"},
      {"policy.import", {{"document", {{"sluice_policy", 1}, {"rules", {{{"action", 5}}}}}}}, "rules[0].action"},
      {"policy.import", {{"document", {{"sluice_policy", 1}, {"settings", 5}}}}, "settings"},
      {"policy.import", {{"document", {{"sluice_policy", 1}, {"settings", {{"fail_mode", "ajar"}}}}}}, "fail_mode"},
      {"policy.import", {{"document", {{"sluice_policy", 1}, {"quotas", json::object()}}}}, "quotas"},
      {"settings.set", {{"key", "provider_timeout_ms"}, {"value", "-5"}}, "provider_timeout_ms"},
      {"settings.set", {{"key", "colour"}, {"value", "blue"}}, "colour"},
      {"policy.check", {{"app", test::program_path("curl")}, {"destination", "::1"}, {"port", 80}, {"protocol", "sctp"}}, "protocol"},
      {"flow.register", {{"protocol", "icmp"}, {"destination", "::1"}, {"port", 80}, {"local", "::1"}, {"local_port", 1}}, "protocol"},
  };
  return cases;
}

class RpcBadParamsTest : public ::testing::Test {
 protected:
  RpcBadParamsTest()
      : quiet_((spdlog::set_level(spdlog::level::warn), true)),
        db_(dir_.file("sluice.db")),
        store_((store::migrate(db_, schema::embedded_migrations()), db_)),
        engine_(store_, policy::MatcherOptions{}),
        flusher_(ledger_, store_, 60s),
        flows_(engine_, ledger_, nullptr) {
    info_.started = std::chrono::steady_clock::now();
    info_.policy = &engine_;
    register_status_methods(dispatcher_, info_);
    register_policy_methods(dispatcher_, engine_, flusher_);
    register_flow_methods(dispatcher_, flows_, engine_);
    register_reload_method(dispatcher_, []() -> ReloadReport { throw ReloadError("no configuration file in this test"); });
    admin_.administrator = true;
    admin_.account = "root";
    admin_.uid = 0;
    admin_.pid = platform::current_pid();
    admin_.executable = platform::process_executable(admin_.pid);
  }

  ~RpcBadParamsTest() override {
    flows_.stop();
    flusher_.stop();
  }

  json error_of(const std::string& method, const json& params) {
    const json response = dispatcher_.handle_request(protocol::make_request(1, method, params), admin_);
    return response.contains("error") ? response["error"] : json::object();  // {} = success
  }

  bool quiet_;
  test::TempDir dir_;
  store::Database db_;
  store::PolicyStore store_;
  PublishedPolicy engine_;
  UsageLedger ledger_;
  UsageFlusher flusher_;
  FlowManager flows_;
  ServiceInfo info_;
  protocol::Dispatcher dispatcher_;
  protocol::Caller admin_;
};

// Names the field in the message, or in error.data.field (the server's path).
bool names(const json& error, const std::string& field) {
  return error.value("message", std::string()).find(field) != std::string::npos ||
         (error.contains("data") && error["data"].is_object() &&
          error["data"].value("field", std::string()).find(field) != std::string::npos);
}

TEST_F(RpcBadParamsTest, TheTableCoversEveryRegisteredMethod) {
  std::set<std::string> tabled;
  for (const auto& c : method_cases()) tabled.insert(c.method);
  std::set<std::string> registered;
  for (const auto& [name, access] : dispatcher_.methods()) registered.insert(name);
  EXPECT_EQ(tabled, registered) << "a method was added or removed: give it its fields here";
}

TEST_F(RpcBadParamsTest, WrongTypesRangesAndMissingFieldsAreInvalidParamsNamingTheField) {
  std::size_t tried = 0, wrong = 0;
  for (const auto& c : method_cases()) {
    // The valid parameters get past type checking: otherwise nothing below proves much.
    const json valid_error = error_of(c.method, c.valid);
    EXPECT_NE(valid_error.value("code", 0), protocol::kInvalidParams) << c.method << " " << c.valid << ": " << valid_error;
    EXPECT_NE(valid_error.value("code", 0), protocol::kInternalError) << c.method << ": " << valid_error;
    for (const auto& field : c.fields) {
      std::vector<json> attempts;
      for (const json& value : wrong_values(field.kind)) {
        json params = c.valid;
        params[field.name] = value;
        attempts.push_back(std::move(params));
      }
      if (field.required) {
        json params = c.valid;
        params.erase(field.name);
        attempts.push_back(std::move(params));
      }
      for (const json& params : attempts) {
        ++tried;
        const json error = error_of(c.method, params);
        const bool ok = error.value("code", 0) == protocol::kInvalidParams && names(error, field.name);
        if (!ok) ++wrong;
        EXPECT_TRUE(ok) << c.method << " " << params.dump() << " answered " << (error.empty() ? "success" : error.dump())
                        << "; wanted -32602 naming '" << field.name << "'";
      }
    }
  }
  std::cout << "[ figures ] " << dispatcher_.methods().size() << " methods, " << tried
            << " wrong parameters tried, errors: " << wrong << "\n";
}

TEST_F(RpcBadParamsTest, WrongValuesInsideRulesQuotasAndDocumentsNameTheirPath) {
  for (const auto& c : nested_cases()) {
    const json error = error_of(c.method, c.params);
    EXPECT_EQ(error.value("code", 0), protocol::kInvalidParams) << c.method << " " << c.params << ": " << error;
    EXPECT_TRUE(names(error, c.names)) << c.method << " " << c.params << ": " << error << "; wanted '" << c.names << "'";
  }
}

// Parameters given as a list (by position) or with a wrong top-level type are not
// an internal error for any method.
TEST_F(RpcBadParamsTest, PositionalOrExtraParametersAreNeverAnInternalError) {
  for (const auto& [name, access] : dispatcher_.methods()) {
    for (const json& params : {json::array({1, "x"}), json{{"unexpected", json::object()}}}) {
      const json error = error_of(name, params);
      EXPECT_NE(error.value("code", 0), protocol::kInternalError) << name << " " << params << ": " << error;
    }
  }
}

}  // namespace
}  // namespace sluice::service
