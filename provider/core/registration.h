#pragma once

// The flow-registration protocol between a provider (LD_PRELOAD shim, Winsock LSP)
// and sluiced: JSON-RPC 2.0 over the control transport's length-prefixed frames.
// Platform-neutral: addresses travel as text, in the service's policy forms.
//
//   flow.register  {"protocol": "tcp"|"udp", "destination": "192.0.2.1", "port": 80,
//                   "local": "0.0.0.0", "local_port": 40000}
//     -> {"verdict": "direct"|"relay"|"block",
//         "flow_id": 17, "relay": "127.0.0.1", "relay_port": 39001,     (relay only)
//         "fail_mode": "open"|"closed", "timeout_ms": 250}
//   flow.release   {"flow_id": 17}     (a notification: no answer is sent)
//
// "local" is the application socket's bound address (getsockname): the provider binds
// an unbound socket first so the service knows the port the relay will see. The
// service identifies the caller itself (SO_PEERCRED and /proc/PID/exe, or the pipe
// client's process), never from anything in the request.

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>

namespace sluice::provider {

enum class Verdict { direct, relay, block };
enum class FailMode { open, closed };

struct RegisterRequest {
  bool udp = false;
  std::string destination;  // text form of the address
  std::uint16_t port = 0;
  std::string local;        // the socket's bound address
  std::uint16_t local_port = 0;
};

struct RegisterAnswer {
  Verdict verdict = Verdict::direct;
  std::uint64_t flow_id = 0;
  std::string relay;            // relay only: where to send instead
  std::uint16_t relay_port = 0;
  FailMode fail_mode = FailMode::open;
  std::uint32_t timeout_ms = 250;
  // Not on the wire: filled by a provider's client that can tell which service process
  // answered (its pid), so a relay route can be known to have died with it. 0: unknown.
  std::int64_t service_instance = 0;
};

// The request payload (one JSON-RPC request with `id`).
std::string encode_register(const RegisterRequest& request, std::int64_t id);
// The flow.release notification payload.
std::string encode_release(std::uint64_t flow_id);
// What an answer may be: a register answer is a few hundred bytes, two levels deep.
inline constexpr std::size_t kMaxAnswerBytes = 64 * 1024;
inline constexpr std::size_t kMaxAnswerDepth = 16;

// Parses the answer to request `id`; nullopt for anything malformed, larger than
// kMaxAnswerBytes or nested deeper than kMaxAnswerDepth, an error response, another
// id, or a relay address that is not loopback (127.0.0.0/8, ::1): the provider then
// applies its fail mode, as if the service were silent.
std::optional<RegisterAnswer> decode_register_answer(const std::string& payload, std::int64_t id);

const char* to_string(Verdict verdict);
const char* to_string(FailMode mode);
std::optional<FailMode> parse_fail_mode(const std::string& text);

}  // namespace sluice::provider
