// Both ends of the flow-registration protocol (provider/core/registration.h).
// The input is read twice:
//  - as the service's answer, by decode_register_answer, which runs inside every
//    steered application: it must never throw or crash, and what it accepts must be
//    usable (a relay answer has a relay address, a port 1-65535; a timeout of at
//    most 60 s);
//  - as the params of flow.register (when it is a JSON object), sent to the
//    service's real handler over a policy with a block, a relay and a direct rule
//    (see in_memory_service.h: relay verdicts are refused there, no engine). The
//    service answers or refuses with invalid params, never an internal error, and
//    every answer it gives is one the provider decodes, to the same verdict.

#include <cstddef>
#include <cstdint>
#include <string>

#include <spdlog/spdlog.h>

#include "provider/core/registration.h"
#include "service/policy/policy_document.h"
#include "tests/fuzz/fuzz_support.h"
#include "tests/fuzz/json_mutator.h"
#include "tests/fuzz/in_memory_service.h"

namespace {

using sluice::fuzz::expect;
using sluice::protocol::json;
namespace provider = sluice::provider;

constexpr std::int64_t kRequestId = 1;

void check_decoded(const std::optional<provider::RegisterAnswer>& answer, const std::string& payload) {
  if (!answer) return;
  expect(answer->timeout_ms <= 60'000, "a decoded timeout is at most 60 s", payload);
  if (answer->verdict == provider::Verdict::relay) {
    expect(!answer->relay.empty() && answer->relay_port != 0, "a decoded relay answer says where to relay", payload);
  }
}

void add_rules(sluice::fuzz::InMemoryService& service) {
  const json document = {{"sluice_policy", 1},
                         {"rules",
                          {{{"action", "block"}, {"ports", {"25"}}},
                           {{"action", "relay"}, {"protocol", "udp"}, {"destinations", {"10.0.0.0/8", "fd00::/8"}}},
                           {{"action", "direct"}, {"app", "/usr/bin/*"}, {"ports", {"1-1024"}}}}},
                         {"settings", {{"default_action", "block"}, {"fail_mode", "closed"}, {"provider_timeout_ms", "500"}}}};
  service.engine().store().import_policy(sluice::policy::document_from_json(document), sluice::store::ImportMode::replace, {});
  service.engine().reload();
}

// The policy every input is decided by: rules for each verdict, by port. Set up
// once; each input gets a fresh service with a copy of it.
sluice::fuzz::InMemoryService& policy_template() {
  static auto* const service = [] {
    auto* s = new sluice::fuzz::InMemoryService;
    add_rules(*s);
    return s;
  }();
  return *service;
}

void check_service_side(const json& params) {
  sluice::fuzz::InMemoryService service(&policy_template());
  const std::string answer = service.dispatcher().handle(
      sluice::protocol::make_request(kRequestId, "flow.register", params).dump(), sluice::fuzz::InMemoryService::administrator());
  const json response = json::parse(answer);
  if (response.contains("error")) {
    const json& error = response["error"];
    const bool no_engine = error["code"] == sluice::protocol::kInternalError &&
                           error["message"].get<std::string>().find("relay engine is not running") != std::string::npos;
    expect(error["code"] == sluice::protocol::kInvalidParams || no_engine, "flow.register refuses bad params as such", answer);
    return;
  }
  const auto decoded = provider::decode_register_answer(answer, kRequestId);
  expect(decoded.has_value(), "the provider decodes every answer the service gives", answer);
  expect(response["result"]["verdict"] == provider::to_string(decoded->verdict), "the provider reads the service's verdict", answer);
  expect(response["result"]["fail_mode"] == provider::to_string(decoded->fail_mode), "the provider reads the fail mode", answer);
  expect(response["result"]["timeout_ms"] == decoded->timeout_ms, "the provider reads the timeout", answer);
  check_decoded(decoded, answer);
}

}  // namespace

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  spdlog::set_level(spdlog::level::off);
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string payload(sluice::fuzz::as_text(data, size));
  check_decoded(provider::decode_register_answer(payload, kRequestId), payload);
  const json value = json::parse(payload, nullptr, /*allow_exceptions=*/false);
  if (value.is_object() && value.contains("id") && value["id"].is_number_integer()) {
    // The same answer to whatever request id it names, to get past the id check.
    check_decoded(provider::decode_register_answer(payload, value["id"].get<std::int64_t>()), payload);
  }
  if (value.is_object()) check_service_side(value);
  return 0;
}

extern "C" std::size_t LLVMFuzzerCustomMutator(std::uint8_t* data, std::size_t size, std::size_t max_size, unsigned seed) {
  return sluice::fuzz::mutate_json(data, size, max_size, seed);
}
