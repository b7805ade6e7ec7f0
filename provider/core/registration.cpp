#include "provider/core/registration.h"

#include <nlohmann/json.hpp>

#include "control/protocol/json_bounds.h"
#include "net/socket_address.h"

namespace sluice::provider {

using json = nlohmann::json;

std::string encode_register(const RegisterRequest& request, std::int64_t id) {
  return json{{"jsonrpc", "2.0"},
              {"id", id},
              {"method", "flow.register"},
              {"params",
               {{"protocol", request.udp ? "udp" : "tcp"},
                {"destination", request.destination},
                {"port", request.port},
                {"local", request.local},
                {"local_port", request.local_port}}}}
      .dump();
}

std::string encode_release(std::uint64_t flow_id) {
  return json{{"jsonrpc", "2.0"}, {"method", "flow.release"}, {"params", {{"flow_id", flow_id}}}}.dump();
}

namespace {

std::optional<Verdict> parse_verdict(const std::string& text) {
  if (text == "direct") return Verdict::direct;
  if (text == "relay") return Verdict::relay;
  if (text == "block") return Verdict::block;
  return std::nullopt;
}

}  // namespace

std::optional<RegisterAnswer> decode_register_answer(const std::string& payload, std::int64_t id) {
  // No exceptions leave this function: it runs inside arbitrary applications.
  // Nor is a tree built of whatever a squatter of the endpoint sends: past the
  // bounds, the answer is no answer, as an untrusted relay address is.
  if (payload.size() > kMaxAnswerBytes) return std::nullopt;
  json response = protocol::parse_bounded(payload, kMaxAnswerDepth);
  // Compared as JSON: value("jsonrpc", "") would throw on a number.
  if (!response.is_object() || !response.contains("jsonrpc") || response["jsonrpc"] != "2.0") return std::nullopt;
  auto found_id = response.find("id");
  if (found_id == response.end() || !found_id->is_number_integer() || found_id->get<std::int64_t>() != id) return std::nullopt;
  auto result = response.find("result");
  if (result == response.end() || !result->is_object()) return std::nullopt;

  RegisterAnswer answer;
  auto text = [&](const char* key) -> std::string {
    auto it = result->find(key);
    return it != result->end() && it->is_string() ? it->get<std::string>() : std::string();
  };
  auto number = [&](const char* key, std::uint64_t max) -> std::optional<std::uint64_t> {
    auto it = result->find(key);
    if (it == result->end() || !it->is_number_unsigned()) return std::nullopt;
    auto value = it->get<std::uint64_t>();
    if (value > max) return std::nullopt;
    return value;
  };

  auto verdict = parse_verdict(text("verdict"));
  if (!verdict) return std::nullopt;
  answer.verdict = *verdict;
  if (auto mode = parse_fail_mode(text("fail_mode"))) answer.fail_mode = *mode;
  if (auto timeout = number("timeout_ms", 60'000)) answer.timeout_ms = static_cast<std::uint32_t>(*timeout);
  if (answer.verdict == Verdict::relay) {
    auto flow_id = number("flow_id", UINT64_MAX);
    auto relay_port = number("relay_port", 65535);
    answer.relay = text("relay");
    if (!flow_id || !relay_port || *relay_port == 0 || answer.relay.empty()) return std::nullopt;
    // The relay is sluiced's, on this machine. Whoever answers in the service's place
    // (a squatted endpoint) must not steer the program's traffic anywhere else.
    const auto relay = net::parse_endpoint(answer.relay, static_cast<std::uint16_t>(*relay_port));
    if (!relay || !net::is_loopback(relay->ip)) return std::nullopt;
    answer.flow_id = *flow_id;
    answer.relay_port = static_cast<std::uint16_t>(*relay_port);
  }
  return answer;
}

const char* to_string(Verdict verdict) {
  switch (verdict) {
    case Verdict::direct: return "direct";
    case Verdict::relay: return "relay";
    case Verdict::block: return "block";
  }
  return "?";
}

const char* to_string(FailMode mode) { return mode == FailMode::open ? "open" : "closed"; }

std::optional<FailMode> parse_fail_mode(const std::string& text) {
  if (text == "open") return FailMode::open;
  if (text == "closed") return FailMode::closed;
  return std::nullopt;
}

}  // namespace sluice::provider
