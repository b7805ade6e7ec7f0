#pragma once

// What installing, checking and removing the Sluice LSP means for one Winsock
// catalog, as pure functions of the catalog (the Windows applier reads the 64-bit
// and the 32-bit catalog and runs them on each).
//
// Installed means: one hidden layered entry (our DLL, kLayeredProviderGuid) and one
// protocol chain [layered id, base id] (kChainProviderGuid) over each base provider
// for TCP/IPv4, UDP/IPv4, TCP/IPv6 and UDP/IPv6, those chains first in provider order.
//
// A chain names catalog ids, and the catalog assigns an id only when an entry is
// installed, so installing is staged; each stage is computed from the catalog as
// read back after the previous one:
//   1. plan_install: what to remove first, and the layered entry to install;
//   2. chain_entries: the chains, now that the layered entry has its id;
//   3. provider_order: the order that puts those chains first;
//   then catalog_status on the final catalog says whether it all took.

#include <cstdint>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

#include "provider/lsp/install/catalog_entry.h"

namespace sluice::lsp::install {

// A catalog the plan cannot work with (nothing to layer over, stage out of order).
class PlanError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

enum class Transport { tcp_ipv4, udp_ipv4, tcp_ipv6, udp_ipv6 };
// The order our chains take at the head of the catalog.
inline constexpr Transport kTransports[] = {Transport::tcp_ipv4, Transport::udp_ipv4, Transport::tcp_ipv6,
                                            Transport::udp_ipv6};
const char* to_string(Transport transport);  // "TCP/IPv4"
// The entry serves this transport: its address family, socket type and protocol.
bool carries(const CatalogEntry& entry, Transport transport);

// `"MSAFD Tcpip [TCP/IP]" (1006)`: how messages name an entry.
std::string label(const CatalogEntry& entry);

// The base provider a Sluice chain goes over for one transport.
struct LayeringTarget {
  Transport transport;
  CatalogEntry base;
  std::vector<CatalogEntry> foreign_chains;  // other vendors' chains over the same base
};
struct BaseSelection {
  std::vector<LayeringTarget> targets;  // in kTransports order
  std::vector<Transport> missing;       // no visible base provider for these
};
// Per transport: the first base provider in provider order that is not hidden,
// preferring one without XP1_QOS_SUPPORTED (the RSVP entries serve TCP and UDP too,
// but only to programs that ask for QoS; plain sockets get MSAFD Tcpip).
BaseSelection select_base_providers(const Catalog& catalog);

enum class InstallState {
  not_installed,  // no entry with a Sluice GUID
  installed,      // everything above, and nothing else of ours
  damaged,        // some of it: `problems` says what
};

struct InstalledChain {
  Transport transport;
  CatalogEntry entry;
  std::size_t position;  // in provider order, from 0
};

struct CatalogStatus {
  InstallState state = InstallState::not_installed;
  std::optional<CatalogEntry> layered;  // our layered entry, when it is sound
  std::vector<InstalledChain> chains;   // our sound chains, in provider order
  bool chains_first = false;            // they lead the provider order
  std::vector<Transport> uncovered;     // a base provider exists but no sound chain of ours is over it
  std::vector<Transport> no_base;       // nothing to layer over for these
  std::vector<CatalogEntry> stale;      // ours, to be replaced: wrong DLL, wrong chain, duplicates
  std::vector<CatalogEntry> orphans;    // our chains naming an id the catalog no longer has
  std::vector<CatalogEntry> foreign_orphans;  // other vendors' chains naming missing ids
  std::vector<std::string> problems;    // why the state is `damaged`
};
// With `dll`, our entries must name that DLL (case-insensitively, as Windows
// compares paths); without it any DLL will do.
CatalogStatus catalog_status(const Catalog& catalog, const std::optional<std::string>& dll = std::nullopt);

// How much of an install has to be redone, least to most.
enum class Work { nothing, reorder, reinstall_chains, reinstall_all };
const char* to_string(Work work);
// The 64-bit and the 32-bit catalog are changed together (WSCInstallProvider64_32
// writes both), so the one needing more sets the work for both.
Work widest(Work a, Work b);

struct InstallPlan {
  Work work = Work::nothing;
  std::vector<std::string> reasons;  // why that work
  std::vector<std::string> notes;    // what the administrator should know either way
  std::vector<Guid> remove;          // deinstall these first, in this order
  std::optional<CatalogEntry> layered_entry;  // stage 1, when the work is reinstall_all
};
// Stage 1. Throws PlanError for an empty catalog or one with nothing to layer over.
InstallPlan plan_install(const Catalog& catalog, const std::string& dll);

// Our GUIDs present in the catalog that `work` replaces: the chains' before the
// layered entry's, so no chain is ever left naming a removed layered entry.
std::vector<Guid> removals(const Catalog& catalog, Work work);

// The hidden layered entry for `dll`, modelled on the first base provider we layer over.
CatalogEntry layered_entry(const Catalog& catalog, const std::string& dll);

// Stage 2: one chain [our layered id, base id] per layering target, fields copied
// from the base, named "Sluice over <base>". Throws PlanError if our layered entry
// is not in the catalog.
std::vector<CatalogEntry> chain_entries(const Catalog& catalog, const std::string& dll);

// For a catalog that was given another catalog's entries (WSCInstallProvider64_32
// writes the 64-bit catalog's ids and DLL into the 32-bit catalog too): our entries,
// with their ids here, as they must read in this catalog (its own layered and base
// ids, its DLL). Empty when all is well. When one chain differs, every chain under
// the chain GUID is listed: whether WSCUpdateProvider32 rewrites the listed entries
// or replaces the GUID's whole list is not documented, and the full list is right
// either way.
struct Corrections {
  std::optional<CatalogEntry> layered;
  std::vector<CatalogEntry> chains;
  bool empty() const { return !layered && chains.empty(); }
};
Corrections corrections(const Catalog& catalog, const std::string& dll);

// Stage 3: every catalog id, our sound chains first (in kTransports order), all
// other entries after them in their present order.
std::vector<std::uint32_t> provider_order(const Catalog& catalog);

struct UninstallPlan {
  std::vector<Guid> remove;             // chains' GUID before the layered entry's
  std::vector<CatalogEntry> entries;    // every entry that removing those GUIDs takes out
  std::vector<CatalogEntry> orphans;    // ours among them that named a missing layered entry
  // Other vendors' orphaned chains: reported, never removed. They are not ours to
  // judge: the vendor's own repair may expect them, and which provider programs get
  // for a protocol is the administrator's call (`netsh winsock reset`, the vendor's
  // tool). Our GUIDs say exactly what we own; anything else would be a guess.
  std::vector<CatalogEntry> foreign_orphans;
};
UninstallPlan plan_uninstall(const Catalog& catalog);

}  // namespace sluice::lsp::install
