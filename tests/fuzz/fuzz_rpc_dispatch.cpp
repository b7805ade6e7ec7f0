// One control-plane frame's payload, as any local user may send it, handled by the
// JSON-RPC dispatcher with the methods sluiced registers (see in_memory_service.h
// for what is left out and why). A batch is a whole session: its requests run in
// order against the same fresh policy. Properties:
//  - handle() never throws: a request is served or refused with a JSON-RPC error;
//  - nothing is refused as an "internal error" (-32603): bad input is a parse error,
//    an invalid request or invalid params naming the field. The one exception is
//    the relay verdict this process cannot serve (no relay engine, see above);
//  - text nested deeper than 64 arrays/objects, or a batch of more than 64 members,
//    is refused as an invalid request naming the limit, and never parsed (the
//    oracle here is nlohmann's SAX parser, which builds nothing, not the service's
//    own scan); the answer never exceeds the 1 MiB frame limit;
//  - the answer is JSON-RPC 2.0 (https://www.jsonrpc.org/specification): nothing
//    for a notification (a valid request without an id), one response per request
//    otherwise (in a batch, one per member that is not a notification), echoing the
//    request's id, with exactly one of result and error; an error has an integer
//    code and a string message.

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <string>

#include <spdlog/spdlog.h>

#include "tests/fuzz/fuzz_support.h"
#include "tests/fuzz/json_mutator.h"
#include "tests/fuzz/in_memory_service.h"

namespace {

using sluice::fuzz::expect;
using sluice::protocol::json;

const char kNoRelayEngine[] = "the relay engine is not running";

bool valid_id(const json& id) { return id.is_null() || id.is_string() || id.is_number_integer(); }

// The response to one member of a request (a lone request is a batch of one).
void check_response(const json& request, const json& response) {
  const std::string text = response.dump();
  expect(response.is_object(), "a response is an object", text);
  expect(response.value("jsonrpc", "") == "2.0", "a response says \"jsonrpc\": \"2.0\"", text);
  expect(response.contains("id"), "a response carries the request's id", text);
  const json id = request.is_object() && request.contains("id") ? request["id"] : json();
  if (valid_id(id)) {
    expect(response["id"] == id, "a response echoes the request's id", text);
  } else {
    expect(response["id"].is_null(), "a request without a usable id is answered with id null", text);
  }
  expect(response.contains("result") != response.contains("error"), "a response has exactly one of result and error", text);
  if (response.contains("error")) {
    const json& error = response["error"];
    expect(error.is_object() && error.contains("code") && error["code"].is_number_integer(), "an error has an integer code", text);
    expect(error.contains("message") && error["message"].is_string(), "an error has a message", text);
    const bool internal = error["code"] == sluice::protocol::kInternalError;
    expect(!internal || error["message"].get<std::string>().find(kNoRelayEngine) != std::string::npos,
           "bad input is refused as such, not as an internal error", text);
  }
}

// A notification is a valid request without an id; one that is not a valid request
// is answered like any invalid request, with id null (the specification's examples).
bool expects_answer(const json& member) {
  if (!member.is_object() || member.contains("id")) return true;
  const bool valid = member.contains("jsonrpc") && member["jsonrpc"] == "2.0" && member.contains("method") &&
                     member["method"].is_string() &&
                     (!member.contains("params") || member["params"].is_object() || member["params"].is_array());
  return !valid;
}

// Depth and top-level batch width as nlohmann's SAX parser sees them, and whether
// the text is JSON at all. Builds no tree, so any depth is safe to measure.
struct Shape : nlohmann::json_sax<json> {
  std::size_t depth = 0, deepest = 0, members = 0;
  bool batch = false;
  bool open(bool array) {
    if (depth == 0 && array) batch = true;
    else if (depth == 1 && batch) ++members;
    deepest = std::max(deepest, ++depth);
    return true;
  }
  bool value() {
    if (depth == 1 && batch) ++members;
    return true;
  }
  bool null() override { return value(); }
  bool boolean(bool) override { return value(); }
  bool number_integer(number_integer_t) override { return value(); }
  bool number_unsigned(number_unsigned_t) override { return value(); }
  bool number_float(number_float_t, const string_t&) override { return value(); }
  bool string(string_t&) override { return value(); }
  bool binary(binary_t&) override { return value(); }
  bool start_object(std::size_t) override { return open(false); }
  bool key(string_t&) override { return true; }
  bool end_object() override { return --depth, true; }
  bool start_array(std::size_t) override { return open(true); }
  bool end_array() override { return --depth, true; }
  bool parse_error(std::size_t, const std::string&, const nlohmann::detail::exception&) override { return false; }
};

void check_limit_refusal(const std::string& answer) {
  const json response = json::parse(answer);
  check_response(json(), response);
  expect(response["error"]["code"] == sluice::protocol::kInvalidRequest, "a request over a limit is an invalid request",
         answer);
  expect(response["error"]["message"].get<std::string>().find("64") != std::string::npos,
         "the refusal names the limit", answer);
}

}  // namespace

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  spdlog::set_level(spdlog::level::off);
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string payload(sluice::fuzz::as_text(data, size));
  sluice::fuzz::InMemoryService service;
  const std::string answer = service.dispatcher().handle(payload, sluice::fuzz::InMemoryService::administrator());
  expect(answer.size() <= sluice::protocol::kMaxFrameBytes, "the answer fits in one frame", answer.substr(0, 200));

  Shape shape;
  const bool is_json = json::sax_parse(payload, &shape, json::input_format_t::json, /*strict=*/true);
  if (!is_json) {
    // Either refused as JSON, or refused for a limit the scan met before the parser's error.
    const json response = json::parse(answer);
    check_response(json(), response);
    const int code = response.value("error", json::object()).value("code", 0);
    expect(code == sluice::protocol::kParseError || code == sluice::protocol::kInvalidRequest,
           "what is not JSON is a parse error", answer);
    return 0;
  }
  if (shape.deepest > sluice::protocol::kMaxJsonDepth ||
      (shape.batch && shape.members > sluice::protocol::kMaxBatchMembers)) {
    check_limit_refusal(answer);
    return 0;
  }
  const json request = json::parse(payload);
  if (request.is_array() && !request.empty()) {
    std::size_t answered = 0;
    for (const auto& member : request) answered += expects_answer(member) ? 1 : 0;
    if (answered == 0) {
      expect(answer.empty(), "a batch of notifications is not answered", answer);
      return 0;
    }
    const json responses = json::parse(answer);
    expect(responses.is_array() && responses.size() == answered, "a batch gets one response per request", answer);
    std::size_t next = 0;
    for (const auto& member : request) {
      if (expects_answer(member)) check_response(member, responses[next++]);
    }
    return 0;
  }
  if (!expects_answer(request)) {
    expect(answer.empty(), "a notification is not answered", answer);
    return 0;
  }
  check_response(request.is_array() ? json() : request, json::parse(answer));
  return 0;
}

extern "C" std::size_t LLVMFuzzerCustomMutator(std::uint8_t* data, std::size_t size, std::size_t max_size, unsigned seed) {
  return sluice::fuzz::mutate_json(data, size, max_size, seed);
}
