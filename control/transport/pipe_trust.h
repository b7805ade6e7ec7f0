#pragma once

// Whether a client may talk to the process that serves a Windows control pipe.
// Named pipes have no owner a client could check before connecting: whoever creates
// \\.\pipe\sluice first (the service stopped, early boot) receives every client's
// requests and answers with the relay address every program follows. So after
// connecting, a client looks at the process at the other end (win_pipe_server.cpp
// gathers the facts at the system-call boundary) and this decides, as a pure
// function so that it is tested on every platform.
//
// Trusted: a server running as LocalSystem; or the process the service control
// manager names as the 'sluice' service (a standard user cannot read a LocalSystem
// process's token, and under Wine services run as the prefix's user); or, on a pipe
// name the caller chose itself (SLUICE_CONTROL, --control: tests, private
// instances), a server running as the caller's own account (the same user
// deceiving itself gains nothing; the POSIX rule is "a root-owned directory or the
// caller's own 0700 one"). Anything else is refused.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace sluice::transport {

inline constexpr std::string_view kLocalSystemSid = "S-1-5-18";

struct PipeServerFacts {
  std::string endpoint;
  bool default_name = false;  // the machine's pipe, not one the caller chose
  std::uint32_t pid = 0;      // the server's process id; 0 when the system did not say
  std::string sid;            // the server's token user ("S-1-5-..."); "" when unreadable
  std::string token_error;    // why the token could not be read, when it could not
  std::string account;        // DOMAIN\user for messages; "" falls back to the SID
  std::string caller_sid;     // the calling process's token user
  std::optional<bool> is_service;  // the SCM runs the 'sluice' service in `pid`; nullopt: not asked
};

struct PipeTrust {
  bool trusted = false;
  std::string reason;  // on what ground it is trusted, or why it is refused
};

PipeTrust judge_pipe_server(const PipeServerFacts& facts);

// True when the token alone does not make the server trusted, so asking the service
// control manager about facts.pid may.
bool needs_service_check(const PipeServerFacts& facts);

// Pipe names compare case-insensitively, as Windows compares them.
bool same_pipe_name(std::string_view a, std::string_view b);

}  // namespace sluice::transport
