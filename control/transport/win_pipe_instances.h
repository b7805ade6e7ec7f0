#pragma once

// What win_event_server.cpp needs of the named-pipe listener that listen() makes
// (win_transport.cpp): overlapped server instances of its pipe, and who a client is.

#include <windows.h>

#include "control/protocol/jsonrpc.h"

namespace sluice::transport {

class PipeInstances {
 public:
  virtual ~PipeInstances() = default;
  // The instance the listener made when it took the name (the caller owns it now):
  // the name exists only while an instance does, so that one is served, not replaced.
  virtual HANDLE take_first_instance() = 0;
  // A new overlapped instance, not yet connected. Throws TransportError.
  virtual HANDLE create_instance() = 0;
};

// The client's process, pinned as soon as it has connected: pid, start time,
// executable and a handle that keeps the pid from being reused (caller owns it).
void identify_process(HANDLE pipe, protocol::Caller& caller);
// The client's account and whether it is an administrator, from its token: only
// once the client has written to the pipe.
void identify_account(HANDLE pipe, protocol::Caller& caller);

}  // namespace sluice::transport
