#pragma once

// JSON-RPC 2.0 (https://www.jsonrpc.org/specification): request/response helpers
// for clients and a method dispatcher for the service. Transport-agnostic.

#include <cstdint>
#include <limits>
#include <type_traits>
#include <utility>
#include <functional>
#include <map>
#include <stdexcept>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "control/protocol/frame.h"
#include "control/protocol/json_bounds.h"

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
  kAnswerTooLarge = -32007,      // the answer (or a batch's answers together) would not fit in a frame
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
  // The process pinned at connect, so that a pid reused by another program is never
  // taken for the caller (platform::same_process): its start time, and a handle
  // (Linux: the pidfd SO_PEERPIDFD gives; Windows: a process handle) the connection
  // holds and closes; 0 and -1 when the system gave none.
  std::uint64_t process_start = 0;
  std::intptr_t process_handle = -1;
};

// Methods that change state are refused to non-administrators by the dispatcher
// itself, so no handler can forget the check.
enum class Access { read, admin };

using Handler = std::function<json(const json& params, const Caller& caller)>;

// What one frame may ask of the dispatcher. Depth and batch size are checked on
// the text before it is parsed; the answer's size while the answers are built.
struct DispatchLimits {
  std::size_t max_depth = kMaxJsonDepth;
  std::size_t max_batch_members = kMaxBatchMembers;
  std::size_t max_answer_bytes = kMaxFrameBytes;
};

class Dispatcher {
 public:
  explicit Dispatcher(DispatchLimits limits = {}) : limits_(limits) {}

  void add(std::string method, Access access, Handler handler);

  // Handles one frame's payload (a request, a notification or a batch) and
  // returns the response payload, or "" when nothing is to be sent back. The
  // payload is never longer than max_answer_bytes: an answer that would be is
  // replaced by a kAnswerTooLarge error, and once a batch's answers fill the
  // frame its remaining members are not carried out but answered with that error.
  std::string handle(std::string_view payload, const Caller& caller) const;

  // Handles one parsed request object; nullopt-like empty json for notifications.
  json handle_request(const json& request, const Caller& caller) const;

  // Every registered method and who may call it, by name.
  std::map<std::string, Access> methods() const;

 private:
  std::string handle_batch(const json& batch, const Caller& caller) const;

  struct Method {
    Access access;
    Handler handler;
  };
  std::map<std::string, Method, std::less<>> methods_;
  DispatchLimits limits_;
};

json make_request(std::int64_t id, std::string_view method, json params = json::object());
json make_error_response(const json& id, int code, std::string_view message, const json& data = nullptr);

// Returns the "result" of a response to request `id`, or throws the RpcError it carries.
// Throws RpcError(kInvalidRequest) when the response is not a JSON-RPC response to `id`.
json result_of(const json& response, std::int64_t id);

// Reads a required parameter, throwing "invalid params" that names the field and
// what was expected when it is missing, of the wrong type or out of range. Stricter
// than nlohmann's get<T>(), which would turn true into 1, 1.5 into 1 and -1 into
// 18446744073709551615 without a word.
template <class T>
T required_param(const json& params, const char* field) {
  if (!params.is_object() || !params.contains(field)) {
    throw RpcError(kInvalidParams, std::string("missing parameter '") + field + "'", json{{"field", field}});
  }
  const json& value = params.at(field);
  auto wrong = [&](const std::string& expected) {
    return RpcError(kInvalidParams,
                    std::string("parameter '") + field + "' must be " + expected + ", not " + value.dump(),
                    json{{"field", field}});
  };
  if constexpr (std::is_same_v<T, bool>) {
    if (!value.is_boolean()) throw wrong("true or false");
    return value.get<bool>();
  } else if constexpr (std::is_integral_v<T>) {
    const std::string range =
        "a whole number from " + std::to_string(std::numeric_limits<T>::min()) + " to " + std::to_string(std::numeric_limits<T>::max());
    if (!value.is_number_integer()) throw wrong(range);
    const bool fits = value.is_number_unsigned() ? std::in_range<T>(value.get<std::uint64_t>())
                                                 : std::in_range<T>(value.get<std::int64_t>());
    if (!fits) throw wrong(range);
    return value.get<T>();
  } else if constexpr (std::is_floating_point_v<T>) {
    if (!value.is_number()) throw wrong("a number");
    return value.get<T>();
  } else if constexpr (std::is_same_v<T, std::string>) {
    if (!value.is_string()) throw wrong("a string");
    return value.get<std::string>();
  } else if constexpr (std::is_same_v<T, json>) {
    return value;
  } else {
    try {
      return value.get<T>();
    } catch (const json::exception&) {
      throw RpcError(kInvalidParams, std::string("parameter '") + field + "' has the wrong type (" + value.type_name() + ")",
                     json{{"field", field}});
    }
  }
}

template <class T>
T optional_param(const json& params, const char* field, T fallback) {
  if (!params.is_object() || !params.contains(field) || params.at(field).is_null()) return fallback;
  return required_param<T>(params, field);
}

}  // namespace sluice::protocol
