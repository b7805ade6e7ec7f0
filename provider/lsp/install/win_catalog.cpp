#include "provider/lsp/install/win_catalog.h"

#include <algorithm>

#include "common/platform/platform.h"

namespace sluice::lsp::install {
namespace {

std::string join(const std::vector<std::string>& items, const char* separator) {
  std::string out;
  for (const auto& item : items) out += (out.empty() ? "" : separator) + item;
  return out;
}

void require_administrator(const char* doing) {
  if (!platform::running_as_administrator()) {
    throw CatalogError(std::string("cannot ") + doing +
                       " the Sluice LSP: changing the Winsock catalog needs an elevated administrator "
                       "(open the prompt with \"Run as administrator\"); nothing was changed");
  }
}

[[noreturn]] void not_taken(Which which, const std::string& call, const std::string& what) {
  throw CatalogError(std::string("the ") + to_string(which) + " did not take the change: " + call +
                     " reported success, but " + what +
                     " (a ws2_32 that only pretends to change the catalog, such as Wine's, does this)");
}

bool holds(const Catalog& catalog, const Guid& provider) {
  return std::any_of(catalog.begin(), catalog.end(), [&](const CatalogEntry& e) { return e.provider == provider; });
}

std::vector<std::uint32_t> ids(const Catalog& catalog) {
  std::vector<std::uint32_t> out;
  for (const auto& e : catalog) out.push_back(e.id);
  return out;
}

// One catalog an install works on, with the DLL it must name, as last read.
struct Target {
  Which which;
  std::string dll;
  Catalog catalog;
};

class Installer {
 public:
  Installer(CatalogCalls& calls, std::vector<Target> targets) : calls_(calls), targets_(std::move(targets)) {}

  void run(Work work, ChangeReport& report) {
    try {
      remove_replaced(work);
      if (work == Work::reinstall_all) install_layered();
      if (work >= Work::reinstall_chains) install_chains();
      write_orders();
      set_categories(report);
      verify();
    } catch (const std::exception& e) {
      throw CatalogError(e.what() + roll_back());
    }
  }

 private:
  bool both() const { return targets_.size() == 2; }
  const char* install_call() const { return both() ? "WSCInstallProvider64_32" : "WSCInstallProvider"; }

  void read_back() {
    calls_.refresh();
    for (auto& t : targets_) t.catalog = calls_.read(t.which);
  }

  void install(const Guid& provider, const std::vector<CatalogEntry>& entries) {
    const Target& native = targets_.front();
    if (both()) calls_.install_both(provider, native.dll, entries);
    else calls_.install_64(provider, native.dll, entries);
    added_.push_back(provider);
  }

  void remove_replaced(Work work) {
    bool removed = false;
    for (const auto& t : targets_) {
      for (const auto& provider : removals(t.catalog, work)) {
        calls_.deinstall(t.which, provider);
        removed = true;
      }
    }
    if (!removed) return;
    read_back();
    for (const auto& t : targets_) {
      if (!removals(t.catalog, work).empty()) not_taken(t.which, "WSCDeinstallProvider", "the entries it removed are still there");
    }
  }

  // Stage 1: the layered entry, modelled on the 64-bit catalog (WSCInstallProvider64_32
  // writes one list into both catalogs; the 32-bit copy's DLL is corrected in stage 2).
  void install_layered() {
    const Target& native = targets_.front();
    install(kLayeredProviderGuid, {layered_entry(native.catalog, native.dll)});
    read_back();
    for (const auto& t : targets_) {
      if (!holds(t.catalog, kLayeredProviderGuid)) {
        not_taken(t.which, install_call(), "the Sluice layered entry is not in the catalog read back");
      }
    }
  }

  // Stage 2: the chains, now that the layered entry has its id in each catalog.
  void install_chains() {
    const Target& native = targets_.front();
    install(kChainProviderGuid, chain_entries(native.catalog, native.dll));
    read_back();
    if (both()) {
      const Target& wow = targets_.back();
      const Corrections fix = corrections(wow.catalog, wow.dll);
      if (fix.layered) calls_.update_32(kLayeredProviderGuid, wow.dll, {*fix.layered});
      if (!fix.chains.empty()) calls_.update_32(kChainProviderGuid, wow.dll, fix.chains);
      if (!fix.empty()) read_back();
    }
    for (const auto& t : targets_) {
      if (!holds(t.catalog, kChainProviderGuid)) {
        not_taken(t.which, install_call(), "the Sluice chains are not in the catalog read back");
      }
    }
  }

  // Stage 3: our chains first.
  void write_orders() {
    bool written = false;
    for (const auto& t : targets_) {
      const auto order = provider_order(t.catalog);
      if (order == ids(t.catalog)) continue;
      calls_.write_order(t.which, order);
      written = true;
    }
    if (written) read_back();
  }

  // Not fatal: the categories only tell applications that filter LSPs what Sluice
  // does; without them Windows treats it as uncategorised, which still loads it into
  // ordinary programs and still keeps it out of system processes.
  void set_categories(ChangeReport& report) {
    for (const auto& t : targets_) {
      for (const Guid& provider : {kLayeredProviderGuid, kChainProviderGuid}) {
        try {
          calls_.set_categories(t.which, provider, kSluiceLspCategories);
        } catch (const CatalogError& e) {
          report.warnings.push_back(std::string(to_string(t.which)) + ": LSP categories not set: " + e.what());
          break;
        }
      }
    }
  }

  void verify() {
    for (const auto& t : targets_) {
      const CatalogStatus status = catalog_status(t.catalog, t.dll);
      if (status.state != InstallState::installed) {
        not_taken(t.which, "every catalog call", "the catalog reads back " + join(status.problems, "; "));
      }
    }
  }

  // Takes out what this run added, so a failed install leaves no half of itself,
  // and says what the catalogs hold now (a stale install removed in stage 0 is gone).
  std::string roll_back() {
    std::string outcome;
    try {
      for (auto it = added_.rbegin(); it != added_.rend(); ++it) {
        for (const auto& t : targets_) calls_.deinstall(t.which, *it);
      }
      read_back();
      std::vector<std::string> left;
      for (const auto& t : targets_) {
        if (catalog_status(t.catalog).state != InstallState::not_installed) left.push_back(to_string(t.which));
      }
      outcome = left.empty() ? "no Sluice entries are left in the catalog"
                             : "Sluice entries are still in the " + join(left, " and ") +
                                   "; 'sluicectl provider uninstall' removes them";
    } catch (const std::exception& e) {
      outcome = "undoing it failed too: " + std::string(e.what()) + "; 'sluicectl provider uninstall' removes what is left";
    }
    return (added_.empty() ? "; " : "; removed what this install added: ") + outcome;
  }

  CatalogCalls& calls_;
  std::vector<Target> targets_;
  std::vector<Guid> added_;
};

}  // namespace

std::vector<CatalogReading> read_catalogs() {
  CatalogCalls calls;
  std::vector<CatalogReading> readings;
  readings.push_back({Which::catalog64, calls.read(Which::catalog64), {}});
  CatalogReading wow{Which::catalog32, std::nullopt, {}};
  try {
    wow.catalog = calls.read(Which::catalog32);
  } catch (const CatalogError& e) {
    wow.unavailable = e.what();
  }
  readings.push_back(std::move(wow));
  return readings;
}

ChangeReport install(const InstallRequest& request) {
  require_administrator("install");
  CatalogCalls calls;
  std::vector<Target> targets{{Which::catalog64, request.dll, {}}};
  if (request.dll32) {
    if (const auto missing = calls.missing_32bit_writes(); !missing.empty()) {
      throw CatalogError("cannot install into the 32-bit catalog: ws2_32.dll does not export " + join(missing, ", ") +
                         "; nothing was changed");
    }
    targets.push_back({Which::catalog32, *request.dll32, {}});
  }

  ChangeReport report;
  Work work = Work::nothing;
  for (auto& t : targets) {
    t.catalog = calls.read(t.which);
    const std::string prefix = std::string(to_string(t.which)) + ": ";
    InstallPlan plan;
    try {
      plan = plan_install(t.catalog, t.dll);
    } catch (const PlanError& e) {
      throw CatalogError(prefix + e.what());
    }
    work = widest(work, plan.work);
    for (const auto& reason : plan.reasons) report.lines.push_back(prefix + reason);
    for (const auto& note : plan.notes) report.warnings.push_back(prefix + note);
  }
  if (work == Work::nothing) return report;

  report.lines.push_back(std::string("to do: ") + to_string(work));
  Installer(calls, std::move(targets)).run(work, report);
  report.changed = true;
  return report;
}

ChangeReport uninstall() {
  require_administrator("uninstall");
  CatalogCalls calls;
  ChangeReport report;
  std::vector<Which> catalogs{Which::catalog64};
  if (const auto missing = calls.missing_32bit_reads(); missing.empty()) {
    catalogs.push_back(Which::catalog32);
  } else {
    report.warnings.push_back("32-bit catalog: not checked: ws2_32.dll does not export " + join(missing, ", "));
  }

  std::vector<std::pair<Which, UninstallPlan>> plans;
  for (Which which : catalogs) {
    const std::string prefix = std::string(to_string(which)) + ": ";
    UninstallPlan plan = plan_uninstall(calls.read(which));
    for (const auto& foreign : plan.foreign_orphans) {
      report.warnings.push_back(prefix + "another vendor's orphaned chain " + label(foreign) +
                                " names catalog ids that are gone; left alone (netsh winsock reset clears it)");
    }
    if (plan.remove.empty()) {
      report.lines.push_back(prefix + "no Sluice entries");
      continue;
    }
    std::vector<std::string> names;
    for (const auto& e : plan.entries) names.push_back(label(e));
    report.lines.push_back(prefix + "removing " + join(names, ", ") +
                           (plan.orphans.empty() ? "" : " (" + std::to_string(plan.orphans.size()) + " of them orphaned)"));
    plans.emplace_back(which, std::move(plan));
  }
  if (plans.empty()) return report;

  for (const auto& [which, plan] : plans) {
    for (const auto& provider : plan.remove) calls.deinstall(which, provider);
  }
  calls.refresh();
  for (const auto& [which, plan] : plans) {
    if (!plan_uninstall(calls.read(which)).remove.empty()) {
      not_taken(which, which == Which::catalog64 ? "WSCDeinstallProvider" : "WSCDeinstallProvider32",
                "Sluice entries are still in the catalog read back");
    }
  }
  report.changed = true;
  return report;
}

}  // namespace sluice::lsp::install
