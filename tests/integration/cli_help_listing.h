#pragma once

// The commands sluicectl's --help lists, read the way a user reads them: the CLI
// tests check every command, so a new one cannot be added without a case.

#include <set>
#include <sstream>
#include <string>
#include <vector>

namespace sluice::cli::test_listing {

// "rule add" -> {"rule", "add"}
inline std::vector<std::string> words(const std::string& command) {
  std::istringstream in(command);
  std::vector<std::string> out;
  for (std::string w; in >> w;) out.push_back(w);
  return out;
}

// The names a --help text lists under its "Commands:" heading.
inline std::set<std::string> names_under_commands(const std::string& help) {
  std::set<std::string> names;
  const auto heading = help.find("Commands:");
  if (heading == std::string::npos) return names;
  std::istringstream in(help.substr(heading));
  std::string line;
  std::getline(in, line);
  while (std::getline(in, line) && line.starts_with("  ")) names.insert(words(line).front());
  return names;
}

// Every command `--help` lists, each group's as "group sub" ("rule add"); with
// `groups`, the group names too. `help_of(args)` gives `sluicectl ARGS --help`'s output.
template <class HelpOf>
std::set<std::string> listed_commands(HelpOf help_of, bool groups) {
  std::set<std::string> all;
  for (const auto& command : names_under_commands(help_of(std::vector<std::string>{}))) {
    const std::set<std::string> subs = names_under_commands(help_of(std::vector<std::string>{command}));
    if (subs.empty() || groups) all.insert(command);
    for (const auto& sub : subs) all.insert(command + " " + sub);
  }
  return all;
}

}  // namespace sluice::cli::test_listing
