#include "control/protocol/jsonrpc.h"

#include <algorithm>
#include <vector>

#include <spdlog/spdlog.h>

namespace sluice::protocol {
namespace {

bool valid_id(const json& id) { return id.is_null() || id.is_string() || id.is_number_integer(); }

// Results repeat names the operating system gave as bytes (program paths, account
// names), which need not be UTF-8. A strict dump() would throw from the control
// server's client thread and end the service; U+FFFD stands in for such bytes.
std::string serialize(const json& response) { return response.dump(-1, ' ', false, json::error_handler_t::replace); }

}  // namespace

void Dispatcher::add(std::string method, Access access, Handler handler) {
  methods_[std::move(method)] = Method{access, std::move(handler)};
}

std::map<std::string, Access> Dispatcher::methods() const {
  std::map<std::string, Access> out;
  for (const auto& [name, method] : methods_) out.emplace(name, method.access);
  return out;
}

namespace {

// The answer to a request that is not a valid JSON-RPC request, or null for one that is.
json request_error(const json& request) {
  if (!request.is_object()) return make_error_response(nullptr, kInvalidRequest, "request must be a JSON object");
  const json id = request.contains("id") ? request["id"] : json(nullptr);
  if (!valid_id(id)) return make_error_response(nullptr, kInvalidRequest, "'id' must be a string, an integer or null");
  // Compared as JSON: value("jsonrpc", "") would throw on a number, out of the
  // control server's client thread.
  if (!request.contains("jsonrpc") || request["jsonrpc"] != "2.0") {
    return make_error_response(id, kInvalidRequest, "'jsonrpc' must be \"2.0\"");
  }
  if (!request.contains("method") || !request["method"].is_string()) {
    return make_error_response(id, kInvalidRequest, "'method' must be a string");
  }
  if (request.contains("params") && !request["params"].is_object() && !request["params"].is_array()) {
    return make_error_response(id, kInvalidRequest, "'params' must be an object or an array");
  }
  return nullptr;
}

json answer_too_large(const json& request, bool carried_out, std::size_t limit) {
  const json id = request.is_object() && request.contains("id") ? request["id"] : json(nullptr);
  const std::string message =
      carried_out ? "the answer does not fit in one frame (" + std::to_string(limit) +
                        " bytes); the request was carried out"
                  : "not carried out: the answers to this batch reached the frame limit of " + std::to_string(limit) +
                        " bytes; send this request again on its own";
  return make_error_response(id, kAnswerTooLarge, message, json{{"limit", limit}, {"carried_out", carried_out}});
}

}  // namespace

json Dispatcher::handle_request(const json& request, const Caller& caller) const {
  if (json error = request_error(request); !error.is_null()) return error;
  const bool is_notification = !request.contains("id");
  const json id = is_notification ? json(nullptr) : request["id"];
  const json params = request.value("params", json::object());

  const auto& name = request["method"].get_ref<const std::string&>();
  auto it = methods_.find(name);
  json response;
  if (it == methods_.end()) {
    response = make_error_response(id, kMethodNotFound, "unknown method '" + name + "'");
  } else if (it->second.access == Access::admin && !caller.administrator) {
    // Said for a person, not a program: clients show it as it is. The method and the
    // account are in the data, for a client that words the refusal its own way.
    response = make_error_response(
        id, kPermissionDenied,
        "this request changes sluiced's state and needs an administrator" +
            (caller.account.empty() ? std::string() : " ('" + caller.account + "' is not one)"),
        json{{"method", name}, {"account", caller.account}});
  } else {
    try {
      response = json{{"jsonrpc", "2.0"}, {"id", id}, {"result", it->second.handler(params, caller)}};
    } catch (const RpcError& e) {
      response = make_error_response(id, e.code(), e.what(), e.data());
    } catch (const std::exception& e) {
      SPDLOG_ERROR("method {} failed: {}", name, e.what());
      response = make_error_response(id, kInternalError, std::string("internal error: ") + e.what());
    }
  }
  return is_notification ? json() : response;
}

std::string Dispatcher::handle(std::string_view payload, const Caller& caller) const {
  // Bounded before parsing: no tree deeper than max_depth, no batch wider than
  // max_batch_members is ever built.
  const JsonShape shape = scan_json_shape(payload, limits_.max_depth, limits_.max_batch_members);
  if (shape.too_deep) {
    return serialize(make_error_response(
        nullptr, kInvalidRequest,
        "the request is nested deeper than the limit of " + std::to_string(limits_.max_depth) + " arrays and objects",
        json{{"limit", limits_.max_depth}}));
  }
  if (shape.top_level_array && shape.batch_members > limits_.max_batch_members) {
    return serialize(make_error_response(
        nullptr, kInvalidRequest,
        "a batch may hold at most " + std::to_string(limits_.max_batch_members) + " requests (the limit); this one holds more",
        json{{"limit", limits_.max_batch_members}}));
  }
  json request = json::parse(payload, nullptr, /*allow_exceptions=*/false);
  if (request.is_discarded()) return serialize(make_error_response(nullptr, kParseError, "payload is not valid JSON"));
  if (request.is_array()) return handle_batch(request, caller);
  json response = handle_request(request, caller);
  if (response.is_null()) return std::string();
  std::string text = serialize(response);
  if (text.size() > limits_.max_answer_bytes) {
    text = serialize(answer_too_large(request, /*carried_out=*/true, limits_.max_answer_bytes));
    if (text.size() > limits_.max_answer_bytes) {  // the id alone is that long
      text = serialize(make_error_response(nullptr, kAnswerTooLarge, "the answer does not fit in one frame"));
    }
  }
  return text;
}

// Appends each member's answer as it is made, keeping room for an error for every
// member still to come: when an answer would not fit, it and all that follow become
// kAnswerTooLarge errors, and the members after it are not carried out.
std::string Dispatcher::handle_batch(const json& batch, const Caller& caller) const {
  if (batch.empty()) return serialize(make_error_response(nullptr, kInvalidRequest, "empty batch"));
  const std::size_t limit = limits_.max_answer_bytes;
  // reserve[i]: the most member i's stand-in answer may take, with its comma.
  std::vector<std::size_t> reserve(batch.size());
  std::size_t reserve_left = 1;  // the closing ']'
  for (std::size_t i = 0; i < batch.size(); ++i) {
    const json error = request_error(batch[i]);
    const std::size_t stand_in = error.is_null()
                                     ? std::max(serialize(answer_too_large(batch[i], true, limit)).size(),
                                                serialize(answer_too_large(batch[i], false, limit)).size())
                                     : serialize(error).size();
    reserve[i] = stand_in + 1;
    reserve_left += reserve[i];
  }
  if (1 + reserve_left > limit) {
    return serialize(make_error_response(nullptr, kAnswerTooLarge,
                                         "the ids of this batch are too long to answer within one frame"));
  }
  std::string out = "[";
  bool full = false;
  for (std::size_t i = 0; i < batch.size(); ++i) {
    const json& member = batch[i];
    reserve_left -= reserve[i];
    std::string text;
    if (!full) {
      const json response = handle_request(member, caller);
      if (response.is_null()) continue;
      text = serialize(response);
      if (out.size() + 1 + text.size() + reserve_left > limit) {
        full = true;
        text = serialize(answer_too_large(member, /*carried_out=*/true, limit));
      }
    } else if (json error = request_error(member); !error.is_null()) {
      text = serialize(error);
    } else if (!member.contains("id")) {
      continue;  // a notification expects no answer, and this one is not carried out
    } else {
      text = serialize(answer_too_large(member, /*carried_out=*/false, limit));
    }
    if (out.size() > 1) out.push_back(',');
    out += text;
  }
  if (out.size() == 1) return std::string();  // only notifications
  out.push_back(']');
  return out;
}

json make_request(std::int64_t id, std::string_view method, json params) {
  return json{{"jsonrpc", "2.0"}, {"id", id}, {"method", method}, {"params", std::move(params)}};
}

json make_error_response(const json& id, int code, std::string_view message, const json& data) {
  json error{{"code", code}, {"message", message}};
  if (!data.is_null()) error["data"] = data;
  return json{{"jsonrpc", "2.0"}, {"id", id}, {"error", std::move(error)}};
}

json result_of(const json& response, std::int64_t id) {
  if (!response.is_object() || !response.contains("jsonrpc") || response["jsonrpc"] != "2.0") {
    throw RpcError(kInvalidRequest, "the service sent something that is not a JSON-RPC 2.0 response");
  }
  if (response.contains("error")) {
    const json& error = response["error"];
    // Fields of the wrong type fall back rather than throw json's own exceptions.
    const bool has_code = error.is_object() && error.contains("code") && error["code"].is_number_integer() &&
                          std::in_range<int>(error["code"].get<std::int64_t>());
    const bool has_message = error.is_object() && error.contains("message") && error["message"].is_string();
    throw RpcError(has_code ? error["code"].get<int>() : kInternalError,
                   has_message ? error["message"].get<std::string>() : std::string("unknown error"),
                   error.is_object() && error.contains("data") ? error["data"] : json());
  }
  if (!response.contains("id") || response["id"] != id) {
    throw RpcError(kInvalidRequest, "the service answered a different request");
  }
  if (!response.contains("result")) throw RpcError(kInvalidRequest, "response has neither result nor error");
  return response["result"];
}

}  // namespace sluice::protocol
