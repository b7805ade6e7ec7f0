#include "control/cli/preload_file.h"

namespace sluice::cli {

std::vector<std::string> preload_entries(std::string_view text) {
  std::vector<std::string> entries;
  std::string current;
  bool comment = false;  // glibc's loader skips from '#' to the end of the line
  for (char c : text) {
    if (c == '\n') comment = false;
    if (c == '#') comment = true;
    if (comment || c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == ':') {
      if (!current.empty()) entries.push_back(std::move(current));
      current.clear();
    } else {
      current += c;
    }
  }
  if (!current.empty()) entries.push_back(std::move(current));
  return entries;
}

bool is_provider_entry(std::string_view entry) {
  const auto slash = entry.rfind('/');
  return (slash == std::string_view::npos ? entry : entry.substr(slash + 1)) == "libsluice_preload.so";
}

namespace {

// Each line as it was, less its provider entries; a line left with nothing but
// separators goes, a comment stays.
std::string strip_provider(std::string_view text) {
  std::string out;
  while (!text.empty()) {
    const auto end = text.find('\n');
    const std::string_view line = text.substr(0, end);
    text = end == std::string_view::npos ? std::string_view{} : text.substr(end + 1);
    const auto hash = line.find('#');
    const std::string_view body = line.substr(0, hash);
    const auto entries = preload_entries(body);
    bool provider = false;
    for (const auto& e : entries) provider = provider || is_provider_entry(e);
    if (!provider) {
      out.append(line);
      out += '\n';
      continue;
    }
    std::string kept;
    for (const auto& e : entries) {
      if (!is_provider_entry(e)) kept += (kept.empty() ? "" : " ") + e;
    }
    if (hash != std::string_view::npos) kept += (kept.empty() ? "" : " ") + std::string(line.substr(hash));
    if (!kept.empty()) out += kept + "\n";
  }
  return out;
}

}  // namespace

std::string with_provider(std::string_view text, const std::string& library) {
  return library + "\n" + strip_provider(text);
}

std::string without_provider(std::string_view text) { return strip_provider(text); }

}  // namespace sluice::cli
