#pragma once

// Files the packages ship (packaging/sluiced.conf, ...), embedded into the test
// binaries that check them, by file name (cmake/EmbedTextFiles.cmake).

#include <optional>
#include <string_view>

namespace sluice::test {

std::optional<std::string_view> shipped_file_text(std::string_view file_name);

}  // namespace sluice::test
