#include "control/protocol/jsonrpc.h"

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

json Dispatcher::handle_request(const json& request, const Caller& caller) const {
  if (!request.is_object()) return make_error_response(nullptr, kInvalidRequest, "request must be a JSON object");
  const bool is_notification = !request.contains("id");
  const json id = is_notification ? json(nullptr) : request["id"];
  if (!valid_id(id)) return make_error_response(nullptr, kInvalidRequest, "'id' must be a string, an integer or null");
  // Compared as JSON: value("jsonrpc", "") would throw on a number, out of the
  // control server's client thread.
  if (!request.contains("jsonrpc") || request["jsonrpc"] != "2.0") {
    return make_error_response(id, kInvalidRequest, "'jsonrpc' must be \"2.0\"");
  }
  if (!request.contains("method") || !request["method"].is_string()) {
    return make_error_response(id, kInvalidRequest, "'method' must be a string");
  }
  const json params = request.value("params", json::object());
  if (!params.is_object() && !params.is_array()) {
    return make_error_response(id, kInvalidRequest, "'params' must be an object or an array");
  }

  const auto& name = request["method"].get_ref<const std::string&>();
  auto it = methods_.find(name);
  json response;
  if (it == methods_.end()) {
    response = make_error_response(id, kMethodNotFound, "unknown method '" + name + "'");
  } else if (it->second.access == Access::admin && !caller.administrator) {
    response = make_error_response(id, kPermissionDenied,
                                   "'" + name + "' changes state and needs an administrator" +
                                       (caller.account.empty() ? std::string() : " ('" + caller.account + "' is not one)"));
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
  json request = json::parse(payload, nullptr, /*allow_exceptions=*/false);
  if (request.is_discarded()) return serialize(make_error_response(nullptr, kParseError, "payload is not valid JSON"));
  if (request.is_array()) {
    if (request.empty()) return serialize(make_error_response(nullptr, kInvalidRequest, "empty batch"));
    json responses = json::array();
    for (const auto& item : request) {
      json r = handle_request(item, caller);
      if (!r.is_null()) responses.push_back(std::move(r));
    }
    return responses.empty() ? std::string() : serialize(responses);
  }
  json response = handle_request(request, caller);
  return response.is_null() ? std::string() : serialize(response);
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
