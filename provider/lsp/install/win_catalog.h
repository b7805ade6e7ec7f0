#pragma once

// Installing, checking and removing the Sluice LSP in this machine's Winsock
// catalogs (Windows only): the catalog plan applied through ws2_32 one stage at a
// time, each stage read back. A catalog that reports success and does not change
// (Wine's stubs do exactly that) is an error, never a claimed install.

#include <optional>
#include <string>
#include <vector>

#include "provider/lsp/install/catalog_plan.h"
#include "provider/lsp/install/win_catalog_calls.h"

namespace sluice::lsp::install {

// LSP_PROXY (it redirects connections to the relay) and LSP_FIREWALL (it refuses
// some). Not LSP_SYSTEM: Windows then keeps Sluice out of services and system
// processes that only accept system LSPs, where a relay has no business.
inline constexpr std::uint32_t kSluiceLspCategories = winsock::kLspProxy | winsock::kLspFirewall;

struct CatalogReading {
  Which which;
  std::optional<Catalog> catalog;
  std::string unavailable;  // why it could not be read
};
// The 64-bit catalog (throws CatalogError if it cannot be read) and the 32-bit
// one, which this ws2_32.dll may have no calls for.
std::vector<CatalogReading> read_catalogs();

struct InstallRequest {
  std::string dll;  // the 64-bit LSP, named in the 64-bit catalog
  // The 32-bit LSP, named in the 32-bit catalog. Without one that catalog is left
  // alone: 32-bit programs load the DLL a 32-bit catalog names, and a 64-bit DLL
  // there would fail every socket they open.
  std::optional<std::string> dll32;
};

struct ChangeReport {
  bool changed = false;
  std::vector<std::string> lines;     // what was found and done
  std::vector<std::string> warnings;  // done, but the administrator should know
};

// Both need an elevated administrator. They throw CatalogError when a call fails,
// when ws2_32 lacks a call they need, or when a catalog reads back without the
// change; install then removes what it had added, and says what is left.
ChangeReport install(const InstallRequest& request);
ChangeReport uninstall();

}  // namespace sluice::lsp::install
