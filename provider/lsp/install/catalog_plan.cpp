#include "provider/lsp/install/catalog_plan.h"

#include <algorithm>
#include <set>

namespace sluice::lsp::install {
namespace {

using namespace winsock;

bool is_layered_guid(const CatalogEntry& e) { return e.provider == kLayeredProviderGuid; }
bool is_chain_guid(const CatalogEntry& e) { return e.provider == kChainProviderGuid; }
bool is_ours(const CatalogEntry& e) { return is_layered_guid(e) || is_chain_guid(e); }

// Windows compares file names case-insensitively; the catalog keeps what the
// installer wrote, so "C:\Program Files" and "c:\program files" are one DLL.
bool same_path(const std::string& a, const std::string& b) {
  auto lower = [](unsigned char c) { return c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : static_cast<char>(c); };
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [&](char x, char y) { return lower(x) == lower(y); });
}

// szProtocol holds 255 UTF-16 units. A UTF-8 string is never shorter in bytes than
// in UTF-16 units, so cutting at 255 bytes (on a character boundary) always fits.
std::string fit_protocol_name(std::string name) {
  if (name.size() <= kMaxProtocolName) return name;
  std::size_t cut = kMaxProtocolName;
  while (cut > 0 && (static_cast<unsigned char>(name[cut]) & 0xC0) == 0x80) --cut;
  name.resize(cut);
  return name;
}

std::set<std::uint32_t> ids_of(const Catalog& catalog) {
  std::set<std::uint32_t> ids;
  for (const auto& e : catalog) ids.insert(e.id);
  return ids;
}

bool names_missing_id(const CatalogEntry& chain, const std::set<std::uint32_t>& ids) {
  return std::any_of(chain.chain.begin(), chain.chain.end(), [&](std::uint32_t id) { return !ids.contains(id); });
}

std::optional<Transport> transport_of(const CatalogEntry& e) {
  for (Transport t : kTransports) {
    if (carries(e, t)) return t;
  }
  return std::nullopt;
}

const LayeringTarget* target_for(const BaseSelection& selection, Transport t) {
  for (const auto& target : selection.targets) {
    if (target.transport == t) return &target;
  }
  return nullptr;
}

std::string chain_name(const CatalogEntry& base) { return fit_protocol_name(kChainNamePrefix + base.name); }

// The chain we want over `target` in a catalog whose layered entry has `layered_id`.
CatalogEntry wanted_chain(const LayeringTarget& target, std::uint32_t layered_id, const std::string& dll) {
  CatalogEntry chain = target.base;
  chain.id = 0;
  chain.provider = kChainProviderGuid;
  chain.chain_length = 2;
  chain.chain = {layered_id, target.base.id};
  chain.provider_flags &= ~kPflHidden;
  // sluice_lsp.dll is not IFS: programs get handles it made with
  // WPUCreateSocketHandle, not the base provider's, and ws2_32 must know that.
  chain.service_flags1 &= ~kXp1IfsHandles;
  chain.name = chain_name(target.base);
  chain.dll_path = dll;
  return chain;
}

// Our layered entry when the catalog has exactly one and it is a hidden layered entry.
std::optional<CatalogEntry> sound_layered(const Catalog& catalog, std::vector<std::string>* problems) {
  std::vector<CatalogEntry> found;
  for (const auto& e : catalog) {
    if (is_layered_guid(e)) found.push_back(e);
  }
  if (found.empty()) return std::nullopt;
  if (found.size() > 1) {
    if (problems) problems->push_back("the catalog holds " + std::to_string(found.size()) + " Sluice layered entries");
    return std::nullopt;
  }
  const CatalogEntry& e = found.front();
  if (!e.is_layered() || !(e.provider_flags & kPflHidden)) {
    if (problems) problems->push_back(label(e) + " under the Sluice layered GUID is not a hidden layered entry");
    return std::nullopt;
  }
  return e;
}

}  // namespace

const char* to_string(Transport transport) {
  switch (transport) {
    case Transport::tcp_ipv4: return "TCP/IPv4";
    case Transport::udp_ipv4: return "UDP/IPv4";
    case Transport::tcp_ipv6: return "TCP/IPv6";
    case Transport::udp_ipv6: return "UDP/IPv6";
  }
  return "?";
}

bool carries(const CatalogEntry& e, Transport t) {
  const bool v4 = t == Transport::tcp_ipv4 || t == Transport::udp_ipv4;
  const bool tcp = t == Transport::tcp_ipv4 || t == Transport::tcp_ipv6;
  return e.address_family == (v4 ? kAfInet : kAfInet6) && e.socket_type == (tcp ? kSockStream : kSockDgram) &&
         e.protocol == (tcp ? kIpprotoTcp : kIpprotoUdp);
}

std::string label(const CatalogEntry& e) { return "\"" + e.name + "\" (" + std::to_string(e.id) + ")"; }

BaseSelection select_base_providers(const Catalog& catalog) {
  BaseSelection selection;
  for (Transport t : kTransports) {
    const CatalogEntry* chosen = nullptr;
    for (const auto& e : catalog) {
      if (!e.is_base() || !carries(e, t) || (e.provider_flags & kPflHidden)) continue;
      const bool qos = (e.service_flags1 & kXp1QosSupported) != 0;
      if (!chosen || ((chosen->service_flags1 & kXp1QosSupported) && !qos)) chosen = &e;
      if (!qos) break;
    }
    if (!chosen) {
      selection.missing.push_back(t);
      continue;
    }
    LayeringTarget target{t, *chosen, {}};
    for (const auto& e : catalog) {
      if (e.is_chain() && !is_ours(e) && e.chain.back() == chosen->id) target.foreign_chains.push_back(e);
    }
    selection.targets.push_back(std::move(target));
  }
  return selection;
}

CatalogStatus catalog_status(const Catalog& catalog, const std::optional<std::string>& dll) {
  CatalogStatus status;
  const auto ids = ids_of(catalog);
  const BaseSelection selection = select_base_providers(catalog);
  status.no_base = selection.missing;
  for (const auto& e : catalog) {
    if (e.is_chain() && !is_ours(e) && names_missing_id(e, ids)) status.foreign_orphans.push_back(e);
  }
  if (std::none_of(catalog.begin(), catalog.end(), is_ours)) return status;

  auto& problems = status.problems;
  if (std::none_of(catalog.begin(), catalog.end(), is_layered_guid)) {
    problems.push_back("the Sluice layered entry is missing");
  }
  status.layered = sound_layered(catalog, &problems);
  if (status.layered && dll && !same_path(status.layered->dll_path, *dll)) {
    problems.push_back("the layered entry names " + status.layered->dll_path + ", not " + *dll);
    status.layered.reset();
  }
  for (const auto& e : catalog) {
    if (is_layered_guid(e) && !(status.layered && e == *status.layered)) status.stale.push_back(e);
  }

  for (std::size_t position = 0; position < catalog.size(); ++position) {
    const CatalogEntry& e = catalog[position];
    if (!is_chain_guid(e)) continue;
    if (!e.is_chain()) {
      problems.push_back(label(e) + " under the Sluice chain GUID is not a protocol chain");
      status.stale.push_back(e);
      continue;
    }
    if (names_missing_id(e, ids)) {
      problems.push_back(label(e) + " is orphaned: it names catalog ids that are no longer there");
      status.orphans.push_back(e);
      continue;
    }
    const auto t = transport_of(e);
    const LayeringTarget* target = t ? target_for(selection, *t) : nullptr;
    if (!status.layered || !target) {
      problems.push_back(label(e) + " is not over the Sluice layered entry and a base provider we layer over");
      status.stale.push_back(e);
      continue;
    }
    const CatalogEntry wanted = wanted_chain(*target, status.layered->id, dll.value_or(e.dll_path));
    if (e.chain != wanted.chain) {
      problems.push_back(label(e) + " is not the chain [" + std::to_string(status.layered->id) + ", " +
                         std::to_string(target->base.id) + "] over " + label(target->base));
      status.stale.push_back(e);
    } else if (!same_path(e.dll_path, wanted.dll_path)) {
      problems.push_back(label(e) + " names " + e.dll_path + ", not " + wanted.dll_path);
      status.stale.push_back(e);
    } else if (std::any_of(status.chains.begin(), status.chains.end(),
                           [&](const InstalledChain& c) { return c.transport == *t; })) {
      problems.push_back(label(e) + " duplicates the Sluice chain for " + to_string(*t));
      status.stale.push_back(e);
    } else {
      status.chains.push_back({*t, e, position});
    }
  }

  for (const auto& target : selection.targets) {
    if (std::none_of(status.chains.begin(), status.chains.end(),
                     [&](const InstalledChain& c) { return c.transport == target.transport; })) {
      status.uncovered.push_back(target.transport);
      problems.push_back(std::string("no Sluice chain over ") + label(target.base) + " for " +
                         to_string(target.transport));
    }
  }
  status.chains_first = !status.chains.empty();
  for (std::size_t i = 0; i < status.chains.size(); ++i) {
    if (status.chains[i].position != i) status.chains_first = false;
  }
  if (!status.chains.empty() && !status.chains_first) {
    problems.push_back("the Sluice chains are not first in provider order: " + label(catalog.front()) +
                       " comes before them");
  }
  status.state = problems.empty() ? InstallState::installed : InstallState::damaged;
  return status;
}

const char* to_string(Work work) {
  switch (work) {
    case Work::nothing: return "nothing to do";
    case Work::reorder: return "put the Sluice chains first in provider order";
    case Work::reinstall_chains: return "reinstall the Sluice chains";
    case Work::reinstall_all: return "install the layered entry and the chains";
  }
  return "?";
}

Work widest(Work a, Work b) { return std::max(a, b); }

InstallPlan plan_install(const Catalog& catalog, const std::string& dll) {
  if (catalog.empty()) {
    throw PlanError("the Winsock catalog has no entries at all; it cannot have been read correctly, so nothing "
                    "is changed (netsh winsock show catalog lists what Windows sees)");
  }
  const BaseSelection selection = select_base_providers(catalog);
  if (selection.targets.empty()) {
    throw PlanError("the Winsock catalog has no visible base provider for TCP or UDP over IPv4 or IPv6: there is "
                    "nothing for the Sluice LSP to layer over");
  }
  InstallPlan plan;
  const CatalogStatus status = catalog_status(catalog, dll);
  if (status.state == InstallState::not_installed) {
    plan.work = Work::reinstall_all;
    plan.reasons.push_back("Sluice is not installed in this catalog");
  } else {
    plan.reasons = status.problems;
    if (!status.layered) plan.work = Work::reinstall_all;
    else if (!status.stale.empty() || !status.orphans.empty() || !status.uncovered.empty()) plan.work = Work::reinstall_chains;
    else if (!status.chains_first) plan.work = Work::reorder;
  }

  for (const auto& target : selection.targets) {
    for (const auto& foreign : target.foreign_chains) {
      plan.notes.push_back("another LSP is layered over " + label(target.base) + ": " + label(foreign) +
                           ". Sluice layers over the base provider itself and its chain comes first, so " +
                           to_string(target.transport) + " sockets get Sluice, not that chain");
    }
  }
  for (Transport t : selection.missing) {
    plan.notes.push_back(std::string("no base provider for ") + to_string(t) + ": programs using " + to_string(t) +
                         " are not steered");
  }
  for (const auto& orphan : status.foreign_orphans) {
    plan.notes.push_back("another vendor's orphaned chain " + label(orphan) +
                         " names catalog ids that are gone; it is left alone (netsh winsock reset clears it)");
  }
  plan.remove = removals(catalog, plan.work);
  if (plan.work == Work::reinstall_all) plan.layered_entry = layered_entry(catalog, dll);
  return plan;
}

std::vector<Guid> removals(const Catalog& catalog, Work work) {
  std::vector<Guid> remove;
  if (work >= Work::reinstall_chains && std::any_of(catalog.begin(), catalog.end(), is_chain_guid)) {
    remove.push_back(kChainProviderGuid);
  }
  if (work == Work::reinstall_all && std::any_of(catalog.begin(), catalog.end(), is_layered_guid)) {
    remove.push_back(kLayeredProviderGuid);
  }
  return remove;
}

CatalogEntry layered_entry(const Catalog& catalog, const std::string& dll) {
  const BaseSelection selection = select_base_providers(catalog);
  if (selection.targets.empty()) throw PlanError("no base provider to model the Sluice layered entry on");
  // Modelled on a base entry, as Winsock expects a layered entry to describe the
  // family it sits over; socket type and protocol 0 and PFL_HIDDEN keep programs
  // from ever being handed this entry itself.
  CatalogEntry layered = selection.targets.front().base;
  layered.id = 0;
  layered.provider = kLayeredProviderGuid;
  layered.chain_length = kLayeredProtocol;
  layered.chain.clear();
  layered.socket_type = 0;
  layered.protocol = 0;
  layered.provider_flags = (layered.provider_flags | kPflHidden) & ~kPflMatchesProtocolZero;
  layered.name = kLayeredProviderName;
  layered.dll_path = dll;
  return layered;
}

std::vector<CatalogEntry> chain_entries(const Catalog& catalog, const std::string& dll) {
  const auto layered = sound_layered(catalog, nullptr);
  if (!layered) throw PlanError("the Sluice layered entry is not in the catalog, so no chain can name it");
  std::vector<CatalogEntry> chains;
  for (const auto& target : select_base_providers(catalog).targets) chains.push_back(wanted_chain(target, layered->id, dll));
  return chains;
}

Corrections corrections(const Catalog& catalog, const std::string& dll) {
  Corrections fix;
  const auto layered = sound_layered(catalog, nullptr);
  if (!layered) return fix;
  if (!same_path(layered->dll_path, dll)) {
    fix.layered = *layered;
    fix.layered->dll_path = dll;
  }
  const BaseSelection selection = select_base_providers(catalog);
  bool differs = false;
  for (const auto& e : catalog) {
    if (!is_chain_guid(e)) continue;
    const auto t = transport_of(e);
    const LayeringTarget* target = t ? target_for(selection, *t) : nullptr;
    CatalogEntry wanted = target ? wanted_chain(*target, layered->id, dll) : e;
    wanted.id = e.id;
    differs = differs || wanted.chain != e.chain || !same_path(wanted.dll_path, e.dll_path) || wanted.name != e.name;
    fix.chains.push_back(std::move(wanted));
  }
  if (!differs) fix.chains.clear();
  return fix;
}

std::vector<std::uint32_t> provider_order(const Catalog& catalog) {
  std::vector<InstalledChain> chains = catalog_status(catalog).chains;
  std::stable_sort(chains.begin(), chains.end(),
                   [](const InstalledChain& a, const InstalledChain& b) { return a.transport < b.transport; });
  std::vector<std::uint32_t> order;
  for (const auto& c : chains) order.push_back(c.entry.id);
  for (const auto& e : catalog) {
    if (std::find(order.begin(), order.end(), e.id) == order.end()) order.push_back(e.id);
  }
  return order;
}

UninstallPlan plan_uninstall(const Catalog& catalog) {
  UninstallPlan plan;
  plan.remove = removals(catalog, Work::reinstall_all);
  for (const auto& e : catalog) {
    if (is_ours(e)) plan.entries.push_back(e);
  }
  const CatalogStatus status = catalog_status(catalog);
  plan.orphans = status.orphans;
  plan.foreign_orphans = status.foreign_orphans;
  return plan;
}

}  // namespace sluice::lsp::install
