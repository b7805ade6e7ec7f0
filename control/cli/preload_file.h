#pragma once

// /etc/ld.so.preload as `sluicectl provider` edits it: ld.so reads it as a list of
// libraries separated by whitespace or colons; we keep whatever else is listed and
// add or remove only the Sluice provider, one entry per line.

#include <string>
#include <string_view>
#include <vector>

namespace sluice::cli {

inline constexpr const char* kPreloadFile = "/etc/ld.so.preload";

std::vector<std::string> preload_entries(std::string_view text);
// An entry naming libsluice_preload.so, wherever it lives.
bool is_provider_entry(std::string_view entry);
// The text with `library` as the only provider entry (other providers' paths go),
// everything else kept in order.
std::string with_provider(std::string_view text, const std::string& library);
// The text without any provider entry.
std::string without_provider(std::string_view text);

}  // namespace sluice::cli
