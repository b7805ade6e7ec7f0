#pragma once

// JSON-RPC 2.0 (https://www.jsonrpc.org/specification): request/response helpers
// for clients and a method dispatcher for the service. Transport-agnostic.

#include <cstdint>
#include <functional>
#include <map>
#include <stdexcept>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

namespace sluice::protocol {

using json = nlohmann::json;

// Standard codes, then Sluice's own from the "server error" range.
enum ErrorCode : int {
  kParseError = -32700,
  kInvalidRequest = -32600,
  kMethodNotFound = -32601,
  kInvalidParams = -32602,
  kInternalError = -32603,
  kPermissionDenied = -32001,
  kProtocolMismatch = -32002,
  kNotFound = -32003,
  kConflict = -32004,
  kServerBusy = -32005,
  kConfigurationError = -32006,  // service.reload: the configuration file is missing or wrong
};

class RpcError : public std::runtime_error {
 public:
  RpcError(int code, const std::string& message, json data = nullptr)
      : std::runtime_error(message), code_(code), data_(std::move(data)) {}
  int code() const { return code_; }
  const json& data() const { return data_; }

 private:
  int code_;
  json data_;
};

// Who is calling, as established by the transport (never as claimed by the caller).
struct Caller {
  std::int64_t pid = -1;
  std::int64_t uid = -1;         // POSIX uid; -1 on Windows
  std::string account;           // user name, or DOMAIN\user on Windows
  std::string executable;        // full path of the calling program, when known
  bool administrator = false;    // may change policy
};

// Methods that change state are refused to non-administrators by the dispatcher
// itself, so no handler can forget the check.
enum class Access { read, admin };

using Handler = std::function<json(const json& params, const Caller& caller)>;

class Dispatcher {
 public:
  void add(std::string method, Access access, Handler handler);

  // Handles one frame's payload (a request, a notification or a batch) and
  // returns the response payload, or "" when nothing is to be sent back.
  std::string handle(std::string_view payload, const Caller& caller) const;

  // Handles one parsed request object; nullopt-like empty json for notifications.
  json handle_request(const json& request, const Caller& caller) const;

 private:
  struct Method {
    Access access;
    Handler handler;
  };
  std::map<std::string, Method, std::less<>> methods_;
};

json make_request(std::int64_t id, std::string_view method, json params = json::object());
json make_error_response(const json& id, int code, std::string_view message, const json& data = nullptr);

// Returns the "result" of a response to request `id`, or throws the RpcError it carries.
// Throws RpcError(kInvalidRequest) when the response is not a JSON-RPC response to `id`.
json result_of(const json& response, std::int64_t id);

// Reads a required parameter, throwing "invalid params" that names the field and
// what was expected when it is missing or of the wrong type.
template <class T>
T required_param(const json& params, const char* field) {
  if (!params.is_object() || !params.contains(field)) {
    throw RpcError(kInvalidParams, std::string("missing parameter '") + field + "'", json{{"field", field}});
  }
  try {
    return params.at(field).get<T>();
  } catch (const json::exception&) {
    throw RpcError(kInvalidParams,
                   std::string("parameter '") + field + "' has the wrong type (" + params.at(field).type_name() + ")",
                   json{{"field", field}});
  }
}

template <class T>
T optional_param(const json& params, const char* field, T fallback) {
  if (!params.is_object() || !params.contains(field) || params.at(field).is_null()) return fallback;
  return required_param<T>(params, field);
}

}  // namespace sluice::protocol
