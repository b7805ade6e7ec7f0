#pragma once

// What every sluicectl command needs: subcommand dispatch, option parsing with
// --help, and printing amounts and lists the same way everywhere.

#include <boost/program_options.hpp>

#include <initializer_list>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "control/cli/cli.h"

namespace sluice::cli {

namespace po = boost::program_options;
using nlohmann::json;

struct Subcommand {
  const char* name;
  const char* summary;
  int (*run)(const CliContext&, const std::vector<std::string>&);
};

// `sluicectl GROUP SUB ...`: runs SUB, or explains the group's subcommands.
int dispatch(const CliContext& context, const std::string& group, std::initializer_list<Subcommand> subcommands,
             const std::vector<std::string>& args);

// Parses a subcommand's options. Returns false (after printing help) for --help.
// `usage` is the first help line, e.g. "sluicectl rule show ID".
bool parse(const CliContext& context, const std::string& usage, po::options_description options,
           const std::vector<std::string>& args, po::variables_map& vm,
           std::initializer_list<std::pair<const char*, int>> positional = {});

// Bytes per second or bytes as "1.5 MiB/s" / "1.5 MiB"; "-" for null. Given a unit
// (a JSON string, "GB"), in that unit: what an administrator wrote is shown so.
std::string rate_text(const json& value, const json& unit = nullptr);
std::string size_text(const json& value, const json& unit = nullptr);
// The unit a rule's or quota's amount was written in: its "units" entry for `key`
// ("rate.up", "volume.bytes"), or null.
json unit_of(const json& owner, const char* key);
// A rule's rates as "up 1 MiB/s, down -"; "-" when it has none; in `units`' units.
std::string rule_rate_text(const json& rate, const json& units = json::object());
// One rule (as the service gives it) on one line, made printable: for what an edit,
// a dry run or an import changes.
std::string rule_line(const json& rule);
// A JSON list of strings joined with commas; `empty` when it has none.
std::string list_text(const json& list, const std::string& empty);

// Every rule in evaluation order, paging rule.list; starts over if the policy
// changes between pages, so the list is one generation's.
json fetch_all_rules(transport::RpcClient& client, std::optional<std::uint64_t> generation = std::nullopt);

// Every page of a paged list method (control/protocol/paging.h): the last answer,
// with `list` holding every page's rows.
json all_pages(transport::RpcClient& client, const std::string& method, json params, const std::string& list,
               const std::string& cursor);

// The service's warnings in `answer` (settings that do nothing), one "warning: ..."
// line each on stderr, and a line saying where a program path resolved to when it
// differs from what was typed ("program: /usr/bin/curl (typed /bin/curl)").
void print_warnings(const CliContext& context, const json& answer);
void print_resolved_program(const CliContext& context, const json& answer);
// The --strict option of commands that change the policy: warnings become refusals.
void add_strict_option(po::options_description& options);

// Reads an integer positional/option, naming it in the usage error.
std::int64_t positive_integer(const std::string& text, const std::string& what);
// A TCP/UDP port, 1-65535, naming the option in the usage error.
std::int64_t port_number(const std::string& text, const std::string& what);

// The service found a parameter wrong ("invalid params"): the user typed a flag, not
// a JSON field, so the usage error names the flag. `flags` maps the server's field
// path (its prefix, e.g. "rule.destinations" or "since") to the flag ("--dst").
[[noreturn]] void throw_usage_naming_flag(const protocol::RpcError& error,
                                          std::initializer_list<std::pair<const char*, const char*>> flags);

}  // namespace sluice::cli
