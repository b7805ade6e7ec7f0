#pragma once

// The ws2_32 catalog calls, one wrapper each, on the plain-data catalog model.
// Every Winsock error becomes a CatalogError here, worded once.
//
// Wine 8 and some Windows builds lack calls a 64-bit installer needs for the 32-bit
// catalog, and a binary that imports a missing call crashes when it calls it; so
// only the calls every ws2_32 exports are imported, the rest are looked up with
// GetProcAddress and their absence is reported by name.

#include <cstdint>
#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

#include "provider/lsp/install/catalog_entry.h"

namespace sluice::lsp::install {

class CatalogError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

enum class Which { catalog64, catalog32 };
const char* to_string(Which which);  // "64-bit catalog"

class CatalogCalls {
 public:
  CatalogCalls();  // WSAStartup, and looks up the optional calls
  ~CatalogCalls();
  CatalogCalls(const CatalogCalls&) = delete;
  CatalogCalls& operator=(const CatalogCalls&) = delete;

  // Names of the 32-bit catalog calls this ws2_32.dll does not export.
  std::vector<std::string> missing_32bit_reads() const;   // reading it
  std::vector<std::string> missing_32bit_writes() const;  // changing it
  bool can_set_categories() const;

  // The catalog in provider order, with each provider's DLL path.
  Catalog read(Which which);
  // ws2_32 keeps the catalog it loaded at WSAStartup; a change shows in a later
  // read only after a fresh WSAStartup (WSCInstallProvider64_32's remarks).
  void refresh();

  // WSCInstallProvider: the 64-bit catalog only.
  void install_64(const Guid& provider, const std::string& dll, const std::vector<CatalogEntry>& entries);
  // WSCInstallProvider64_32: the same entries into both catalogs.
  void install_both(const Guid& provider, const std::string& dll, const std::vector<CatalogEntry>& entries);
  // WSCUpdateProvider32: rewrites entries of the 32-bit catalog, by id.
  void update_32(const Guid& provider, const std::string& dll, const std::vector<CatalogEntry>& entries);
  // WSCDeinstallProvider / WSCDeinstallProvider32: every entry under the GUID.
  void deinstall(Which which, const Guid& provider);
  // WSCWriteProviderOrder / WSCWriteProviderOrder32: every catalog id, in the new order.
  void write_order(Which which, const std::vector<std::uint32_t>& ids);
  // WSCSetProviderInfo / WSCSetProviderInfo32 with ProviderInfoLspCategories.
  void set_categories(Which which, const Guid& provider, std::uint32_t categories);

 private:
  struct Optional;  // the calls looked up at run time
  std::unique_ptr<Optional> optional_;
};

}  // namespace sluice::lsp::install
