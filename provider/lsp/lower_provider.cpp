#include "provider/lsp/lower_provider.h"

#include <cstring>
#include <memory>
#include <vector>

#include "provider/lsp/lsp_identity.h"

namespace sluice::lsp {

namespace {

std::mutex providers_mutex;
std::vector<std::unique_ptr<LowerProvider>> providers;

bool same_guid(const GUID& a, const Guid& b) {
  return a.Data1 == b.data1 && a.Data2 == b.data2 && a.Data3 == b.data3 && std::memcmp(a.Data4, b.data4, 8) == 0;
}

// The catalog as WSCEnumProtocols reports it.
std::vector<WSAPROTOCOL_INFOW> read_catalog(int* error) {
  DWORD size = 0;
  WSCEnumProtocols(nullptr, nullptr, &size, error);
  std::vector<WSAPROTOCOL_INFOW> entries(size / sizeof(WSAPROTOCOL_INFOW) + 1);
  size = static_cast<DWORD>(entries.size() * sizeof(WSAPROTOCOL_INFOW));
  const int count = WSCEnumProtocols(nullptr, entries.data(), &size, error);
  if (count == SOCKET_ERROR) return {};
  entries.resize(static_cast<std::size_t>(count));
  return entries;
}

// Finds, through the catalog, the entry below ours in `chain` and its WSPStartup.
LPWSPSTARTUP find_in_catalog(const WSAPROTOCOL_INFOW& chain, WSAPROTOCOL_INFOW& next, HMODULE& module, int* error) {
  *error = WSAEPROVIDERFAILEDINIT;
  const auto catalog = read_catalog(error);
  *error = WSAEPROVIDERFAILEDINIT;
  DWORD layered_id = 0;
  for (const auto& entry : catalog) {
    if (same_guid(entry.ProviderId, kLayeredProviderGuid)) layered_id = entry.dwCatalogEntryId;
  }
  if (layered_id == 0) return nullptr;
  DWORD next_id = 0;
  for (int i = 0; i + 1 < chain.ProtocolChain.ChainLen; ++i) {
    if (chain.ProtocolChain.ChainEntries[i] == layered_id) next_id = chain.ProtocolChain.ChainEntries[i + 1];
  }
  const WSAPROTOCOL_INFOW* below = nullptr;
  for (const auto& entry : catalog) {
    if (entry.dwCatalogEntryId == next_id) below = &entry;
  }
  if (below == nullptr) return nullptr;
  // A base provider is started with its own entry; another layer with the chain,
  // so it can find its own place in it as we did.
  next = below->ProtocolChain.ChainLen == BASE_PROTOCOL ? *below : chain;

  wchar_t path[MAX_PATH];
  int length = MAX_PATH;
  GUID provider_id = below->ProviderId;
  if (WSCGetProviderPath(&provider_id, path, &length, error) != 0) return nullptr;
  wchar_t expanded[MAX_PATH];
  if (ExpandEnvironmentStringsW(path, expanded, MAX_PATH) == 0 || expanded[0] == L'\0') return nullptr;
  module = LoadLibraryW(expanded);
  if (module == nullptr) return nullptr;
  auto startup = reinterpret_cast<LPWSPSTARTUP>(reinterpret_cast<void*>(GetProcAddress(module, "WSPStartup")));
  if (startup == nullptr) {
    FreeLibrary(module);
    module = nullptr;
  }
  return startup;
}

}  // namespace

void* LowerProvider::extension(SOCKET lower_socket, const GUID& id) {
  std::lock_guard lock(mutex_);
  for (int i = 0; i < cached_; ++i) {
    if (IsEqualGUID(cache_[i].id, id)) return cache_[i].function;
  }
  void* function = nullptr;
  DWORD returned = 0;
  int error = 0;
  GUID wanted = id;
  if (calls.lpWSPIoctl(lower_socket, SIO_GET_EXTENSION_FUNCTION_POINTER, &wanted, sizeof wanted, &function,
                       sizeof function, &returned, nullptr, nullptr, nullptr, &error) != 0) {
    function = nullptr;
  }
  if (cached_ < static_cast<int>(std::size(cache_))) cache_[cached_++] = Cached{id, function};
  return function;
}

LowerProvider* start_lower_provider(WORD version, const WSAPROTOCOL_INFOW& ours, const WSPUPCALLTABLE& upcalls,
                                    LPWSPSTARTUP harness_startup, int* error) {
  std::lock_guard lock(providers_mutex);
  for (auto& p : providers) {
    if (p->chain_entry_id == ours.dwCatalogEntryId) return p.get();
  }
  auto lower = std::make_unique<LowerProvider>();
  lower->chain_entry_id = ours.dwCatalogEntryId;
  LPWSPSTARTUP startup = harness_startup;
  if (startup != nullptr) {
    lower->info = ours;
  } else {
    startup = find_in_catalog(ours, lower->info, lower->module, error);
    if (startup == nullptr) return nullptr;
  }
  WSPDATA data{};
  const int rc = startup(version, &data, &lower->info, upcalls, &lower->calls);
  if (rc != 0) {
    *error = rc;
    if (lower->module != nullptr) FreeLibrary(lower->module);
    return nullptr;
  }
  providers.push_back(std::move(lower));
  return providers.back().get();
}

LowerProvider* lower_provider_for(DWORD chain_entry_id) {
  std::lock_guard lock(providers_mutex);
  for (auto& p : providers) {
    if (p->chain_entry_id == chain_entry_id) return p.get();
  }
  return nullptr;
}

void stop_lower_providers() {
  std::lock_guard lock(providers_mutex);
  for (auto& p : providers) {
    int error = 0;
    if (p->calls.lpWSPCleanup != nullptr) p->calls.lpWSPCleanup(&error);
    if (p->module != nullptr) FreeLibrary(p->module);
  }
  providers.clear();
}

}  // namespace sluice::lsp
