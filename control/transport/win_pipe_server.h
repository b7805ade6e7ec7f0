#pragma once

// Who serves a connected control pipe, read from the system (Windows only); the
// decision is pipe_trust.h's.

#include <windows.h>

#include <string>

#include "control/transport/pipe_trust.h"

namespace sluice::transport {

// The facts about the server at the other end of `pipe` (a client handle), the
// SCM asked only when the token alone does not settle it.
PipeServerFacts pipe_server_facts(HANDLE pipe, const std::string& endpoint, bool default_name);

// Throws TransportError(untrusted) unless judge_pipe_server() trusts the server.
void require_trusted_server(HANDLE pipe, const std::string& endpoint, bool default_name);

}  // namespace sluice::transport
