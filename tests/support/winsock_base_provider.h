#pragma once

// A base provider for the SPI harness: WSPStartup that fills a procedure table
// whose every function forwards to the real Winsock API of the process (Wine's
// ws2_32 under test). It stands where mswsock's provider stands below an LSP on
// Windows, so the LSP's calls reach real sockets.

#include <winsock2.h>
#include <ws2spi.h>

namespace sluice::test {

int WSPAPI winsock_base_startup(WORD version, LPWSPDATA data, LPWSAPROTOCOL_INFOW info, WSPUPCALLTABLE upcalls,
                                LPWSPPROC_TABLE procedures);

}  // namespace sluice::test
