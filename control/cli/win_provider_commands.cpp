// sluicectl provider install|uninstall|status on Windows: the Winsock LSP, installed
// machine-wide in the Winsock catalogs (64-bit, and 32-bit when there is a 32-bit
// build of the LSP). These work on the local catalogs, not through the service;
// changing them needs an elevated administrator.

#include <windows.h>

#include <filesystem>
#include <fstream>

#include "common/platform/platform.h"
#include "common/platform/win_strings.h"
#include "control/cli/command_support.h"
#include "control/cli/fix_hints.h"
#include "provider/lsp/install/dll_image.h"
#include "provider/lsp/install/win_catalog.h"

namespace sluice::cli {
namespace {

namespace fs = std::filesystem;
namespace lsp_install = sluice::lsp::install;

// The 32-bit build of the LSP, looked for beside sluicectl like the 64-bit one.
constexpr const char* kLsp32DllName = "sluice_lsp32.dll";

fs::path utf8_path(const std::string& text) { return fs::path(std::u8string(text.begin(), text.end())); }

std::string utf8_text(const fs::path& path) {
  const std::u8string text = path.u8string();
  return std::string(text.begin(), text.end());
}

std::string beside_sluicectl(const char* file_name) {
  return utf8_text(utf8_path(platform::current_executable()).parent_path() / file_name);
}

// The catalog records the path as given, and Winsock loads it in every program from
// whatever directory that program runs in: only a full path means one file.
std::string full_path(const std::string& path) {
  std::error_code error;
  const fs::path full = fs::absolute(utf8_path(path), error);
  return error ? path : utf8_text(full.lexically_normal());
}

// The DLL a catalog is to name: it must exist and be a DLL for that catalog's
// architecture (a wrong one would fail every socket programs open).
std::string checked_dll(const std::string& option, const std::string& path, std::uint16_t machine) {
  std::ifstream file(utf8_path(path), std::ios::binary);
  if (!file) throw UsageError(option + " '" + path + "': no such file");
  std::string head(4096, '\0');
  file.read(head.data(), static_cast<std::streamsize>(head.size()));
  head.resize(static_cast<std::size_t>(file.gcount()));
  if (const auto problem = lsp_install::dll_image_problem(head, machine)) {
    throw UsageError(option + " '" + path + "' cannot be the LSP: " + *problem);
  }
  return full_path(path);
}

// Expands %SystemRoot% and the like, as Winsock does before loading a provider.
bool dll_exists(const std::string& catalog_path) {
  const std::wstring wide = platform::widen(catalog_path);
  std::wstring expanded(32768, L'\0');
  const DWORD n = ExpandEnvironmentStringsW(wide.c_str(), expanded.data(), static_cast<DWORD>(expanded.size()));
  if (n == 0 || n > expanded.size()) return false;
  expanded.resize(n - 1);
  return GetFileAttributesW(expanded.c_str()) != INVALID_FILE_ATTRIBUTES;
}

void print_report(const CliContext& context, const lsp_install::ChangeReport& report) {
  for (const auto& line : report.lines) context.out << line << "\n";
  for (const auto& warning : report.warnings) context.err << "warning: " << warning << "\n";
}

// Changing the catalogs needs an elevated administrator: without one, the failure
// is a refusal (exit 4) and says how to get one.
CommandFailed changing_catalog_failed(const lsp_install::CatalogError& e) {
  if (platform::running_as_administrator()) return CommandFailed(e.what());
  return CommandFailed(std::string(e.what()) + "; changing the Winsock catalog needs an administrator: " + how_to_become_administrator(),
                       kExitRefused);
}

// The same report for --json: one document on stdout; the warnings go in it too.
void print_report_json(const CliContext& context, const lsp_install::ChangeReport& report, bool installed) {
  context.out << json{{"installed", installed}, {"changed", report.changed}, {"done", report.lines}, {"warnings", report.warnings}}
                     .dump(2)
              << "\n";
}

int install(const CliContext& context, const std::vector<std::string>& args) {
  po::options_description options("Options");
  options.add_options()
      ("dll", po::value<std::string>()->value_name("PATH"), "the 64-bit LSP [default: sluice_lsp.dll beside sluicectl]")
      ("dll32", po::value<std::string>()->value_name("PATH"),
       "the 32-bit LSP, for the 32-bit catalog [default: sluice_lsp32.dll beside sluicectl, if there is one]")
      ("json", "print the outcome as JSON");
  po::variables_map vm;
  if (!parse(context, "sluicectl provider install [--dll PATH] [--dll32 PATH] [--json]\n\n"
                      "Steers every program started from now on: installs the Sluice LSP in the Winsock\n"
                      "catalog (a hidden layered entry and chains over the TCP and UDP providers for IPv4\n"
                      "and IPv6, first in provider order), in the 64-bit catalog and, given a 32-bit build\n"
                      "of the LSP, in the 32-bit one. Running programs are not affected. Installing again\n"
                      "changes nothing; a stale or damaged install is repaired. Needs an elevated\n"
                      "administrator.",
             options, args, vm)) {
    return kExitOk;
  }
  lsp_install::InstallRequest request;
  const std::string dll = vm.count("dll") ? vm["dll"].as<std::string>() : beside_sluicectl(sluice::lsp::kLspDllName);
  if (!vm.count("dll") && !fs::exists(utf8_path(dll))) {
    throw UsageError("cannot find " + std::string(sluice::lsp::kLspDllName) + " beside sluicectl (" + dll + "); name it with --dll");
  }
  request.dll = checked_dll("--dll", dll, lsp_install::kMachineX64);
  if (vm.count("dll32")) {
    request.dll32 = checked_dll("--dll32", vm["dll32"].as<std::string>(), lsp_install::kMachineX86);
  } else if (const std::string dll32 = beside_sluicectl(kLsp32DllName); fs::exists(utf8_path(dll32))) {
    request.dll32 = checked_dll("--dll32", dll32, lsp_install::kMachineX86);
  }

  lsp_install::ChangeReport report;
  try {
    report = lsp_install::install(request);
  } catch (const lsp_install::CatalogError& e) {
    throw changing_catalog_failed(e);
  }
  if (!request.dll32) {
    report.warnings.push_back(std::string("32-bit catalog: left as it is: no 32-bit LSP (") + kLsp32DllName +
                              " beside sluicectl, or --dll32); 32-bit programs are not steered");
  }
  if (vm.count("json")) {
    print_report_json(context, report, true);
    return kExitOk;
  }
  print_report(context, report);
  const std::string where = request.dll32 ? "the 64-bit and 32-bit catalogs name " + request.dll + " and " + *request.dll32
                                          : "the 64-bit catalog names " + request.dll;
  if (report.changed) {
    context.out << "provider installed: " << where << "\nprograms started from now on are steered by sluiced's policy\n";
  } else {
    context.out << "provider already installed: " << where << "\n";
  }
  return kExitOk;
}

int uninstall(const CliContext& context, const std::vector<std::string>& args) {
  po::options_description options("Options");
  options.add_options()("json", "print the outcome as JSON");
  po::variables_map vm;
  if (!parse(context, "sluicectl provider uninstall [--json]\n\n"
                      "Removes the Sluice LSP from the Winsock catalogs, with any of its chains left\n"
                      "orphaned by an earlier removal; other vendors' entries are kept. Programs already\n"
                      "running keep it until they exit. Removing again changes nothing. Needs an elevated\n"
                      "administrator.",
             options, args, vm)) {
    return kExitOk;
  }
  lsp_install::ChangeReport report;
  try {
    report = lsp_install::uninstall();
  } catch (const lsp_install::CatalogError& e) {
    throw changing_catalog_failed(e);
  }
  if (vm.count("json")) {
    print_report_json(context, report, false);
    return kExitOk;
  }
  print_report(context, report);
  context.out << (report.changed ? "provider uninstalled\n" : "provider not installed: nothing to remove\n");
  return kExitOk;
}

const char* state_name(lsp_install::InstallState state) {
  switch (state) {
    case lsp_install::InstallState::not_installed: return "not installed";
    case lsp_install::InstallState::installed: return "installed";
    case lsp_install::InstallState::damaged: return "damaged";
  }
  return "?";
}

// One catalog's status as JSON, and whether it is in order (installed with its DLL
// present, or not installed at all).
std::pair<json, bool> describe(const lsp_install::CatalogReading& reading) {
  json out{{"catalog", reading.which == lsp_install::Which::catalog64 ? "64-bit" : "32-bit"}};
  if (!reading.catalog) {
    out["state"] = "unreadable";
    out["reason"] = reading.unavailable;
    return {out, true};
  }
  const lsp_install::CatalogStatus status = lsp_install::catalog_status(*reading.catalog);
  out["state"] = state_name(status.state);
  bool in_order = status.state != lsp_install::InstallState::damaged;
  if (status.layered) {
    const bool present = dll_exists(status.layered->dll_path);
    in_order = in_order && present;
    out["layered"] = {{"id", status.layered->id}, {"dll", status.layered->dll_path}, {"dll_exists", present}};
  }
  json chains = json::array();
  for (const auto& c : status.chains) {
    chains.push_back({{"id", c.entry.id}, {"name", c.entry.name}, {"transport", lsp_install::to_string(c.transport)},
                      {"position", c.position + 1}});
  }
  out["chains"] = chains;
  out["problems"] = status.problems;
  json foreign = json::array();
  for (const auto& e : status.foreign_orphans) foreign.push_back({{"id", e.id}, {"name", e.name}});
  out["foreign_orphans"] = foreign;
  return {out, in_order};
}

void print_status(const CliContext& context, const json& c) {
  const std::string name = c["catalog"].get<std::string>() + " catalog";
  const std::string state = c["state"];
  if (state == "unreadable") {
    context.out << c["reason"].get<std::string>() << "\n";  // "cannot read the 32-bit catalog: ..."
    return;
  }
  if (state == "not installed") {
    context.out << name << ": not installed\n";
  } else {
    context.out << name << ": " << (state == "installed" ? "installed" : "DAMAGED");
    if (c.contains("layered")) {
      context.out << ": " << c["layered"]["dll"].get<std::string>()
                  << (c["layered"]["dll_exists"].get<bool>() ? "" : " (MISSING: programs cannot start their sockets)")
                  << "\n  " << c["layered"]["id"].get<std::uint32_t>() << " \"Sluice LSP\" (hidden layered entry)";
    }
    context.out << "\n";
    for (const auto& chain : c["chains"]) {
      context.out << "  " << chain["id"].get<std::uint32_t>() << " \"" << chain["name"].get<std::string>() << "\" ("
                  << chain["transport"].get<std::string>() << "), position " << chain["position"].get<std::size_t>()
                  << "\n";
    }
    for (const auto& problem : c["problems"]) context.out << "  problem: " << problem.get<std::string>() << "\n";
  }
  for (const auto& e : c["foreign_orphans"]) {
    context.out << "  note: another vendor's chain " << e["id"].get<std::uint32_t>() << " \"" << e["name"].get<std::string>()
                << "\" is orphaned (names catalog ids that are gone); Sluice leaves it alone\n";
  }
}

int status(const CliContext& context, const std::vector<std::string>& args) {
  po::options_description options("Options");
  options.add_options()("json", "print the status as JSON");
  po::variables_map vm;
  if (!parse(context, "sluicectl provider status [--json]\n\n"
                      "Whether the Sluice LSP is installed in the 64-bit and 32-bit Winsock catalogs, where\n"
                      "its chains stand in provider order, and what is wrong with a damaged install. Exits\n"
                      "with 1 when an install is damaged or its DLL is missing.",
             options, args, vm)) {
    return kExitOk;
  }
  std::vector<lsp_install::CatalogReading> readings;
  try {
    readings = lsp_install::read_catalogs();
  } catch (const lsp_install::CatalogError& e) {
    throw CommandFailed(e.what());
  }
  json catalogs = json::array();
  bool in_order = true;
  for (const auto& reading : readings) {
    auto [c, ok] = describe(reading);
    in_order = in_order && ok;
    catalogs.push_back(c);
  }
  if (vm.count("json")) {
    context.out << json{{"installed", catalogs[0]["state"] == "installed"}, {"catalogs", catalogs}}.dump(2) << "\n";
  } else {
    for (const auto& c : catalogs) print_status(context, c);
    if (!in_order) {
      context.out << "provider: damaged; 'sluicectl provider install' repairs it, 'sluicectl provider uninstall' removes it\n";
    } else if (catalogs[0]["state"] == "not installed") {
      context.out << "provider: not installed; 'sluicectl provider install' installs it\n";
    }
  }
  return in_order ? kExitOk : kExitFailure;
}

}  // namespace

int provider_command(const CliContext& context, const std::vector<std::string>& args) {
  return dispatch(context, "provider",
                  {{"install", "steer every program: install the Sluice LSP in the Winsock catalog", install},
                   {"uninstall", "stop steering new programs: remove the LSP from the Winsock catalog", uninstall},
                   {"status", "show whether the LSP is installed in the Winsock catalogs", status}},
                  args);
}

}  // namespace sluice::cli
