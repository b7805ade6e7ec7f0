#pragma once

// The base provider's protocol entry, which every socket sluiced opens on Windows is
// made from. WSASocketW without an entry takes the first catalog entry that matches
// the family, type and protocol, and once an LSP is installed that is the LSP's
// protocol chain, ours or another vendor's: the relay's own connections would then be
// steered (back into the relay) or inspected. Asking for the base entry
// (ProtocolChain.ChainLen == BASE_PROTOCOL) keeps every layered provider out of the
// service's sockets, whatever its executable is called; the LSP then needs no
// exemption of its own (as Microsoft's LSP sample's own sockets are made).

#include <winsock2.h>

#include <cstddef>

namespace sluice::net::win {

// The index in `entries` (catalog order, as WSAEnumProtocolsW lists it) of the first
// base provider entry for `family`, `type` and `protocol`; -1 when there is none.
// Layered entries (ChainLen 0) and protocol chains (ChainLen 2 and more) are passed
// over however early they come.
int find_base_entry(const WSAPROTOCOL_INFOW* entries, std::size_t count, int family, int type, int protocol);

// The base entry from this machine's catalog (looked up once per family, type and
// protocol, then remembered: base entries change only with a reset of the catalog,
// which needs a restart). Throws std::system_error when the catalog cannot be read
// or has no such entry.
WSAPROTOCOL_INFOW base_protocol_entry(int family, int type, int protocol);

// Forgets what base_protocol_entry() remembered, so the next call reads the catalog
// again (after a socket could not be made from a remembered entry).
void forget_base_protocol_entries();

}  // namespace sluice::net::win
