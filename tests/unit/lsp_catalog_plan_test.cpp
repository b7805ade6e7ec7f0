// provider/lsp/install/catalog_plan: which catalog entries the Sluice LSP needs,
// which chains, in what order, checked against catalogs recorded from Windows
// (tests/data/catalogs). Installs are simulated the way the Windows applier runs
// them: one stage at a time, each computed from the catalog as read back.
#include <gtest/gtest.h>

#include <algorithm>
#include <set>

#include "provider/lsp/install/catalog_plan.h"
#include "tests/support/recorded_catalog.h"

using namespace sluice::lsp;
using namespace sluice::lsp::install;
using sluice::test::recorded_catalog;

namespace {

const std::string kDll = R"(C:\Program Files\Sluice\sluice_lsp.dll)";

// A catalog that behaves as Windows' does: new entries get the next id (ids are
// never reused) and go to the end; removal is by provider GUID.
struct SimulatedCatalog {
  Catalog entries;
  std::uint32_t next_id = 1001;

  explicit SimulatedCatalog(Catalog catalog) : entries(std::move(catalog)) {
    for (const auto& e : entries) next_id = std::max(next_id, e.id + 1);
  }
  void install(const std::vector<CatalogEntry>& list) {
    for (auto e : list) {
      e.id = next_id++;
      entries.push_back(e);
    }
  }
  void deinstall(const Guid& guid) {
    std::erase_if(entries, [&](const CatalogEntry& e) { return e.provider == guid; });
  }
  void write_order(const std::vector<std::uint32_t>& ids) {
    ASSERT_EQ(ids.size(), entries.size()) << "WSCWriteProviderOrder takes every entry";
    Catalog reordered;
    for (auto id : ids) {
      auto it = std::find_if(entries.begin(), entries.end(), [&](const CatalogEntry& e) { return e.id == id; });
      ASSERT_NE(it, entries.end()) << "order names unknown id " << id;
      reordered.push_back(*it);
    }
    entries = reordered;
  }
};

// The staged install of the Windows applier, on one catalog.
InstallPlan simulate_install(SimulatedCatalog& catalog, const std::string& dll) {
  const InstallPlan plan = plan_install(catalog.entries, dll);
  for (const auto& guid : plan.remove) catalog.deinstall(guid);
  if (plan.work == Work::reinstall_all) catalog.install({*plan.layered_entry});
  if (plan.work >= Work::reinstall_chains) catalog.install(chain_entries(catalog.entries, dll));
  if (plan.work >= Work::reorder) catalog.write_order(provider_order(catalog.entries));
  return plan;
}

const CatalogEntry& entry(const Catalog& catalog, std::uint32_t id) {
  auto it = std::find_if(catalog.begin(), catalog.end(), [&](const CatalogEntry& e) { return e.id == id; });
  if (it == catalog.end()) throw std::runtime_error("no entry " + std::to_string(id));
  return *it;
}

// An entry rewritten in place, as WSCUpdateProvider rewrites the entry with its id.
void replace(Catalog& catalog, const CatalogEntry& updated) {
  for (auto& e : catalog) {
    if (e.id == updated.id) e = updated;
  }
}

std::vector<std::uint32_t> ids(const Catalog& catalog) {
  std::vector<std::uint32_t> out;
  for (const auto& e : catalog) out.push_back(e.id);
  return out;
}

std::vector<std::uint32_t> chained_bases(const Catalog& catalog) {
  std::vector<std::uint32_t> out;
  for (const auto& e : catalog) {
    if (e.provider == kChainProviderGuid) out.push_back(e.chain.back());
  }
  return out;
}

bool mentions(const std::vector<std::string>& lines, const std::string& text) {
  return std::any_of(lines.begin(), lines.end(), [&](const std::string& l) { return l.find(text) != std::string::npos; });
}

Catalog without_family(Catalog catalog, int family) {
  std::erase_if(catalog, [&](const CatalogEntry& e) { return e.address_family == family; });
  return catalog;
}

}  // namespace

TEST(LspCatalogPlan, RecordedCatalogsLoad) {
  EXPECT_EQ(recorded_catalog("win11_x64.catalog").size(), 11u);
  const Catalog installed = recorded_catalog("win11_x64_sluice_installed.catalog");
  EXPECT_EQ(entry(installed, 1014).chain, (std::vector<std::uint32_t>{1013, 1006}));
  EXPECT_EQ(entry(installed, 1013).name, "Sluice LSP");
  EXPECT_EQ(entry(installed, 1013).dll_path, kDll);
  EXPECT_EQ(to_string(entry(installed, 1013).provider), "{D4778DF7-6E72-4E32-B3DC-96A2E8E1C087}");
}

TEST(LspCatalogPlan, ChainsGoOverExactlyTheFourTcpAndUdpBaseProviders) {
  SimulatedCatalog catalog(recorded_catalog("win11_x64.catalog"));
  simulate_install(catalog, kDll);
  // MSAFD Tcpip [TCP/IP], [UDP/IP], [TCP/IPv6], [UDP/IPv6]; not RAW, not RSVP, not Hyper-V.
  EXPECT_EQ(chained_bases(catalog.entries), (std::vector<std::uint32_t>{1006, 1007, 1003, 1004}));
  for (const auto& chain : catalog.entries) {
    if (chain.provider != kChainProviderGuid) continue;
    EXPECT_EQ(chain.chain_length, 2);
    EXPECT_TRUE(entry(catalog.entries, chain.chain.front()).provider == kLayeredProviderGuid);
  }
}

TEST(LspCatalogPlan, LayeredEntryIsHiddenAndNeverMatchesASocketCall) {
  const InstallPlan plan = plan_install(recorded_catalog("win11_x64.catalog"), kDll);
  ASSERT_TRUE(plan.layered_entry);
  const CatalogEntry& layered = *plan.layered_entry;
  EXPECT_EQ(layered.chain_length, winsock::kLayeredProtocol);
  EXPECT_TRUE(layered.chain.empty());
  EXPECT_TRUE(layered.provider_flags & winsock::kPflHidden);
  EXPECT_FALSE(layered.provider_flags & winsock::kPflMatchesProtocolZero);
  EXPECT_EQ(layered.socket_type, 0);
  EXPECT_EQ(layered.protocol, 0);
  EXPECT_TRUE(layered.provider == kLayeredProviderGuid);
  EXPECT_EQ(layered.name, kLayeredProviderName);
  EXPECT_EQ(layered.dll_path, kDll);
}

TEST(LspCatalogPlan, ChainsCopyTheirBaseProviderExceptIfsHandlesAndAreNamedAfterIt) {
  SimulatedCatalog catalog(recorded_catalog("win11_x64.catalog"));
  simulate_install(catalog, kDll);
  for (const auto& chain : catalog.entries) {
    if (chain.provider != kChainProviderGuid) continue;
    CatalogEntry base = entry(catalog.entries, chain.chain.back());
    EXPECT_EQ(chain.name, "Sluice over " + base.name);
    EXPECT_EQ(chain.dll_path, kDll);
    // The base handles are IFS; sluice_lsp.dll's own handles are not.
    EXPECT_NE(base.service_flags1 & winsock::kXp1IfsHandles, 0u) << base.name;
    EXPECT_EQ(chain.service_flags1 & winsock::kXp1IfsHandles, 0u) << chain.name;
    base.service_flags1 &= ~winsock::kXp1IfsHandles;
    base.id = chain.id;
    base.provider = chain.provider;
    base.chain_length = chain.chain_length;
    base.chain = chain.chain;
    base.name = chain.name;
    base.dll_path = chain.dll_path;
    EXPECT_EQ(chain, base) << "every other field is the base provider's: " << chain.name;
  }
}

TEST(LspCatalogPlan, OurChainsComeFirstAndEverythingElseKeepsItsOrder) {
  const Catalog before = recorded_catalog("win11_x64.catalog");
  SimulatedCatalog catalog(before);
  simulate_install(catalog, kDll);
  std::vector<std::uint32_t> expected{1014, 1015, 1016, 1017};
  for (auto id : ids(before)) expected.push_back(id);
  expected.push_back(1013);  // the layered entry, where WSCInstallProvider put it
  EXPECT_EQ(ids(catalog.entries), expected);
}

TEST(LspCatalogPlan, InstallOnWindows11GivesTheRecordedInstall) {
  SimulatedCatalog catalog(recorded_catalog("win11_x64.catalog"));
  const InstallPlan plan = simulate_install(catalog, kDll);
  EXPECT_EQ(plan.work, Work::reinstall_all);
  EXPECT_TRUE(plan.remove.empty());
  EXPECT_EQ(catalog.entries, recorded_catalog("win11_x64_sluice_installed.catalog"));
  EXPECT_EQ(catalog_status(catalog.entries, kDll).state, InstallState::installed);
}

TEST(LspCatalogPlan, InstallingAgainHasNothingToDo) {
  const Catalog installed = recorded_catalog("win11_x64_sluice_installed.catalog");
  const InstallPlan plan = plan_install(installed, kDll);
  EXPECT_EQ(plan.work, Work::nothing);
  EXPECT_TRUE(plan.remove.empty());
  EXPECT_FALSE(plan.layered_entry);
  EXPECT_TRUE(plan.reasons.empty());

  const CatalogStatus status = catalog_status(installed, kDll);
  EXPECT_EQ(status.state, InstallState::installed);
  EXPECT_TRUE(status.problems.empty());
  EXPECT_TRUE(status.chains_first);
  ASSERT_EQ(status.chains.size(), 4u);
  EXPECT_EQ(status.chains[1].transport, Transport::udp_ipv4);
  EXPECT_EQ(status.chains[1].position, 1u);
}

TEST(LspCatalogPlan, DllPathsCompareCaseInsensitivelyAsWindowsDoes) {
  EXPECT_EQ(plan_install(recorded_catalog("win11_x64_sluice_installed.catalog"),
                         R"(c:\PROGRAM FILES\sluice\SLUICE_LSP.DLL)")
                .work,
            Work::nothing);
}

TEST(LspCatalogPlan, StaleDllPathReinstallsEverything) {
  SimulatedCatalog catalog(recorded_catalog("win11_x64_sluice_stale_path.catalog"));
  const InstallPlan plan = simulate_install(catalog, kDll);
  EXPECT_EQ(plan.work, Work::reinstall_all);
  EXPECT_EQ(plan.remove, (std::vector<Guid>{kChainProviderGuid, kLayeredProviderGuid}));
  EXPECT_TRUE(mentions(plan.reasons, R"(C:\Sluice\sluice_lsp.dll)"));
  const CatalogStatus status = catalog_status(catalog.entries, kDll);
  EXPECT_EQ(status.state, InstallState::installed);
  EXPECT_EQ(status.layered->id, 1018u) << "a reinstalled entry gets a new id";
  EXPECT_EQ(plan_install(catalog.entries, kDll).work, Work::nothing);
}

TEST(LspCatalogPlan, MissingChainReinstallsOnlyTheChains) {
  Catalog partial = recorded_catalog("win11_x64_sluice_installed.catalog");
  std::erase_if(partial, [](const CatalogEntry& e) { return e.id == 1017; });  // UDP/IPv6
  const CatalogStatus status = catalog_status(partial, kDll);
  EXPECT_EQ(status.state, InstallState::damaged);
  EXPECT_EQ(status.uncovered, (std::vector<Transport>{Transport::udp_ipv6}));

  SimulatedCatalog catalog(partial);
  const InstallPlan plan = simulate_install(catalog, kDll);
  EXPECT_EQ(plan.work, Work::reinstall_chains);
  EXPECT_EQ(plan.remove, (std::vector<Guid>{kChainProviderGuid}));
  EXPECT_EQ(catalog_status(catalog.entries, kDll).state, InstallState::installed);
  EXPECT_EQ(entry(catalog.entries, 1013).provider, kLayeredProviderGuid) << "the layered entry stays";
}

TEST(LspCatalogPlan, ChainsPushedDownByAnotherInstallAreOnlyReordered) {
  Catalog pushed = recorded_catalog("win11_x64_sluice_installed.catalog");
  std::rotate(pushed.begin(), pushed.begin() + 4, pushed.end());  // our chains last
  SimulatedCatalog catalog(pushed);
  const InstallPlan plan = simulate_install(catalog, kDll);
  EXPECT_EQ(plan.work, Work::reorder);
  EXPECT_TRUE(plan.remove.empty());
  EXPECT_EQ(catalog.entries, recorded_catalog("win11_x64_sluice_installed.catalog"));
}

TEST(LspCatalogPlan, ForeignLspIsLeftInPlaceAndNamedInTheNotes) {
  const Catalog vendor = recorded_catalog("win11_x64_vendor_lsp.catalog");
  SimulatedCatalog catalog(vendor);
  const InstallPlan plan = simulate_install(catalog, kDll);
  EXPECT_TRUE(mentions(plan.notes, "SangforLSP_x64 over [MSAFD Tcpip [TCP/IP]]"));
  EXPECT_TRUE(mentions(plan.notes, "SangforLSP_x64 over [MSAFD Tcpip [UDP/IP]]"));
  // Layered over the base providers, not over the vendor's chains.
  EXPECT_EQ(chained_bases(catalog.entries), (std::vector<std::uint32_t>{1006, 1007, 1003, 1004}));
  for (const auto& foreign : vendor) EXPECT_EQ(entry(catalog.entries, foreign.id), foreign);
  const auto order = ids(catalog.entries);
  EXPECT_EQ(std::vector<std::uint32_t>(order.begin(), order.begin() + 6),
            (std::vector<std::uint32_t>{1017, 1018, 1019, 1020, 1014, 1015}))
      << "ours first, the vendor's chains next, as before";
}

TEST(LspCatalogPlan, UninstallRemovesTheChainsBeforeTheLayeredEntry) {
  const UninstallPlan plan = plan_uninstall(recorded_catalog("win11_x64_sluice_installed.catalog"));
  EXPECT_EQ(plan.remove, (std::vector<Guid>{kChainProviderGuid, kLayeredProviderGuid}));
  EXPECT_EQ(plan.entries.size(), 5u);
  EXPECT_TRUE(plan.orphans.empty());
  EXPECT_TRUE(plan_uninstall(recorded_catalog("win11_x64.catalog")).remove.empty());
}

TEST(LspCatalogPlan, UninstallRepairsOurOrphanedChainsAndLeavesForeignOnes) {
  const Catalog orphans = recorded_catalog("win11_x64_sluice_orphans.catalog");
  const CatalogStatus status = catalog_status(orphans);
  EXPECT_EQ(status.state, InstallState::damaged);
  EXPECT_EQ(status.orphans.size(), 4u);
  ASSERT_EQ(status.foreign_orphans.size(), 1u);
  EXPECT_EQ(status.foreign_orphans[0].id, 1019u);

  const UninstallPlan plan = plan_uninstall(orphans);
  EXPECT_EQ(plan.remove, (std::vector<Guid>{kChainProviderGuid}));
  EXPECT_EQ(plan.orphans.size(), 4u);
  ASSERT_EQ(plan.foreign_orphans.size(), 1u);
  EXPECT_TRUE(std::none_of(plan.entries.begin(), plan.entries.end(), [](const CatalogEntry& e) { return e.id == 1019; }));
  EXPECT_TRUE(std::none_of(plan.remove.begin(), plan.remove.end(),
                           [&](const Guid& g) { return g == plan.foreign_orphans[0].provider; }));
}

TEST(LspCatalogPlan, InstallOverOrphansRemovesThemFirstAndKeepsForeignOrphans) {
  SimulatedCatalog catalog(recorded_catalog("win11_x64_sluice_orphans.catalog"));
  const InstallPlan plan = simulate_install(catalog, kDll);
  EXPECT_EQ(plan.work, Work::reinstall_all);
  EXPECT_EQ(plan.remove, (std::vector<Guid>{kChainProviderGuid}));
  EXPECT_TRUE(mentions(plan.notes, "NAT WLAN RAM"));
  EXPECT_EQ(catalog_status(catalog.entries, kDll).state, InstallState::installed);
  EXPECT_EQ(entry(catalog.entries, 1019).chain, (std::vector<std::uint32_t>{1018, 1009}));
}

TEST(LspCatalogPlan, ThirtyTwoBitCatalogIsPlannedWithItsOwnIds) {
  const std::string dll32 = R"(C:\Program Files\Sluice\sluice_lsp32.dll)";
  SimulatedCatalog catalog(recorded_catalog("win7_wow64.catalog"));
  simulate_install(catalog, dll32);
  EXPECT_EQ(chained_bases(catalog.entries), (std::vector<std::uint32_t>{1001, 1002, 1004, 1005}));
  const CatalogStatus status = catalog_status(catalog.entries, dll32);
  EXPECT_EQ(status.state, InstallState::installed);
  EXPECT_EQ(status.layered->id, 1011u);
  EXPECT_EQ(status.chains[0].entry.chain, (std::vector<std::uint32_t>{1011, 1001}));
}

TEST(LspCatalogPlan, CorrectionsGiveThe32BitCatalogItsOwnIdsAndDll) {
  // WSCInstallProvider64_32 writes the 64-bit catalog's entries into both catalogs;
  // in the 32-bit one they name 64-bit ids and the 64-bit DLL until corrected.
  const std::string dll32 = R"(C:\Program Files\Sluice\sluice_lsp32.dll)";
  SimulatedCatalog x64(recorded_catalog("win11_x64.catalog"));
  SimulatedCatalog x86(recorded_catalog("win7_wow64.catalog"));
  const InstallPlan plan = plan_install(x64.entries, kDll);
  x64.install({*plan.layered_entry});
  x86.install({*plan.layered_entry});
  const auto chains = chain_entries(x64.entries, kDll);
  x64.install(chains);
  x86.install(chains);
  EXPECT_NE(catalog_status(x86.entries, dll32).state, InstallState::installed);

  const Corrections fix = corrections(x86.entries, dll32);
  ASSERT_TRUE(fix.layered);
  EXPECT_EQ(fix.layered->dll_path, dll32);
  ASSERT_EQ(fix.chains.size(), 4u);
  for (const auto& corrected : fix.chains) replace(x86.entries, corrected);  // what WSCUpdateProvider32 does
  replace(x86.entries, *fix.layered);
  x86.write_order(provider_order(x86.entries));
  EXPECT_EQ(catalog_status(x86.entries, dll32).state, InstallState::installed);
  EXPECT_TRUE(corrections(x86.entries, dll32).empty());
  EXPECT_EQ(chained_bases(x86.entries), (std::vector<std::uint32_t>{1001, 1002, 1004, 1005}));
}

TEST(LspCatalogPlan, CatalogWithoutIPv6LayersOverIPv4AndSaysSo) {
  SimulatedCatalog catalog(without_family(recorded_catalog("win11_x64.catalog"), winsock::kAfInet6));
  const InstallPlan plan = simulate_install(catalog, kDll);
  EXPECT_EQ(chained_bases(catalog.entries), (std::vector<std::uint32_t>{1006, 1007}));
  EXPECT_TRUE(mentions(plan.notes, "no base provider for TCP/IPv6"));
  EXPECT_TRUE(mentions(plan.notes, "no base provider for UDP/IPv6"));
  const CatalogStatus status = catalog_status(catalog.entries, kDll);
  EXPECT_EQ(status.state, InstallState::installed);
  EXPECT_EQ(status.no_base, (std::vector<Transport>{Transport::tcp_ipv6, Transport::udp_ipv6}));
}

TEST(LspCatalogPlan, EmptyCatalogIsAClearError) {
  try {
    plan_install({}, kDll);
    FAIL() << "an empty catalog was planned";
  } catch (const PlanError& e) {
    EXPECT_NE(std::string(e.what()).find("no entries"), std::string::npos) << e.what();
  }
  EXPECT_EQ(catalog_status({}).state, InstallState::not_installed);
}

TEST(LspCatalogPlan, CatalogWithNothingToLayerOverIsAClearError) {
  Catalog only_hyper_v = recorded_catalog("win11_x64.catalog");
  only_hyper_v.resize(1);
  EXPECT_THROW(plan_install(only_hyper_v, kDll), PlanError);
}

TEST(LspCatalogPlan, HiddenAndQosOnlyBaseProvidersAreNotLayeredOver) {
  // RSVP first in provider order still loses to MSAFD: it serves only programs asking for QoS.
  Catalog catalog = recorded_catalog("win11_x64.catalog");
  std::stable_partition(catalog.begin(), catalog.end(), [](const CatalogEntry& e) {
    return (e.service_flags1 & winsock::kXp1QosSupported) != 0;
  });
  const BaseSelection selection = select_base_providers(catalog);
  ASSERT_EQ(selection.targets.size(), 4u);
  EXPECT_EQ(selection.targets[0].base.id, 1006u);
  // A hidden base provider is never chosen: Wine hides its RAW/IP entry.
  Catalog wine = recorded_catalog("wine8.catalog");
  for (auto& e : wine) {
    if (e.id == 1001) e.provider_flags |= winsock::kPflHidden;
  }
  EXPECT_EQ(select_base_providers(wine).missing, (std::vector<Transport>{Transport::tcp_ipv4}));
}

TEST(LspCatalogPlan, WineCatalogPlansChainsOverItsFourEntries) {
  // What `sluicectl provider install` computes under Wine before the catalog ignores it.
  SimulatedCatalog catalog(recorded_catalog("wine8.catalog"));
  simulate_install(catalog, kDll);
  EXPECT_EQ(chained_bases(catalog.entries), (std::vector<std::uint32_t>{1001, 1002, 1004, 1005}));
  EXPECT_EQ(entry(catalog.entries, 1035).name, "Sluice over TCP/IP");
}

TEST(LspCatalogPlan, ChainsCannotBePlannedBeforeTheLayeredEntryIsIn) {
  EXPECT_THROW(chain_entries(recorded_catalog("win11_x64.catalog"), kDll), PlanError);
}

TEST(LspCatalogPlan, CleanCatalogIsNotInstalled) {
  const CatalogStatus status = catalog_status(recorded_catalog("win11_x64.catalog"));
  EXPECT_EQ(status.state, InstallState::not_installed);
  EXPECT_TRUE(status.problems.empty());
  EXPECT_FALSE(status.layered);
}

TEST(LspCatalogPlan, DuplicateLayeredEntriesAreReplaced) {
  Catalog doubled = recorded_catalog("win11_x64_sluice_installed.catalog");
  CatalogEntry copy = entry(doubled, 1013);
  copy.id = 1020;
  doubled.push_back(copy);
  const InstallPlan plan = plan_install(doubled, kDll);
  EXPECT_EQ(plan.work, Work::reinstall_all);
  EXPECT_TRUE(mentions(plan.reasons, "2 Sluice layered entries"));
}

TEST(LspCatalogPlan, LongBaseNamesStillFitTheProtocolName) {
  Catalog catalog = recorded_catalog("win11_x64.catalog");
  for (auto& e : catalog) e.name = std::string(242, 'x') + "\xC3\xA9";  // "Sluice over " + this is 256 bytes, the last character 2 of them
  SimulatedCatalog simulated(catalog);
  simulate_install(simulated, kDll);
  const CatalogEntry& chain = entry(simulated.entries, 1014);
  EXPECT_LE(chain.name.size(), winsock::kMaxProtocolName);
  EXPECT_NE(static_cast<unsigned char>(chain.name.back()), 0xC3) << "a character is never cut in half";
}

TEST(LspCatalogPlan, TheCatalogNeedingMoreWorkSetsItForBoth) {
  EXPECT_EQ(widest(Work::nothing, Work::reorder), Work::reorder);
  EXPECT_EQ(widest(Work::reinstall_all, Work::reinstall_chains), Work::reinstall_all);
  EXPECT_EQ(removals(recorded_catalog("win11_x64_sluice_installed.catalog"), Work::reorder), std::vector<Guid>{});
}
