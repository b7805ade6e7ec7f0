#pragma once

// What a test harness hands the LSP so that it can run where no real ws2_32 loads
// it (Wine's ws2_32 never loads an LSP and stubs the catalog). The harness plays
// ws2_32's part: besides the upcall table WSPStartup receives, the LSP takes two
// things from ws2_32 that a harness must be able to stand in for. Exported as
// SluiceLspSetTestHooks; it changes nothing unless called, and only code already
// running in the process can call it, so it adds no attack surface.

#include <winsock2.h>
#include <ws2spi.h>

extern "C" {

struct SluiceLspTestHooks {
  // The provider below the LSP, instead of the one the catalog names.
  LPWSPSTARTUP lower_startup;
  // ws2_32's WPUCompleteOverlappedRequest export (not part of the upcall table).
  LPWPUCOMPLETEOVERLAPPEDREQUEST complete_overlapped;
};

typedef void(WINAPI* SluiceLspSetTestHooksFn)(const SluiceLspTestHooks* hooks);

}  // extern "C"
