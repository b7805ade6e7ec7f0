#pragma once

// The provider below the LSP in a protocol chain: found through the catalog (our
// hidden layered entry's position in the chain names the next entry, whose DLL is
// loaded and started), or handed over by a test harness. One per chain entry the
// LSP is started for; they live until the DLL is unloaded.

#include <winsock2.h>
#include <mswsock.h>
#include <ws2spi.h>

#include <mutex>
#include <string>

namespace sluice::lsp {

struct LowerProvider {
  DWORD chain_entry_id = 0;  // the chain entry (ours) this provider serves
  WSAPROTOCOL_INFOW info{};  // what its WSPSocket is given
  WSPPROC_TABLE calls{};
  HMODULE module = nullptr;  // null when a harness supplied it

  // The lower provider's extension functions, asked for once (WSPIoctl) on the
  // first socket that needs one; null when it has none.
  void* extension(SOCKET lower_socket, const GUID& id);

 private:
  std::mutex mutex_;
  struct Cached {
    GUID id;
    void* function;
  };
  Cached cache_[8]{};
  int cached_ = 0;
};

// Starts the provider below the chain entry `ours` with `upcalls`. On failure
// returns null and sets *error to a Winsock error code.
LowerProvider* start_lower_provider(WORD version, const WSAPROTOCOL_INFOW& ours, const WSPUPCALLTABLE& upcalls,
                                    LPWSPSTARTUP harness_startup, int* error);

// The lower provider started for a chain entry (WSPSocket's lpProtocolInfo).
LowerProvider* lower_provider_for(DWORD chain_entry_id);

// Calls WSPCleanup on every lower provider and unloads their DLLs.
void stop_lower_providers();

}  // namespace sluice::lsp
