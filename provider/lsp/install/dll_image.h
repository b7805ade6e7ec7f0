#pragma once

// Checks that a file can be the LSP a catalog names, from its PE headers: a catalog
// that names a DLL of the wrong architecture (a 32-bit build in the 64-bit catalog)
// or something that is not a DLL makes every program's sockets fail to start, so the
// installer refuses it before touching the catalog.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace sluice::lsp::install {

// IMAGE_FILE_HEADER.Machine values.
inline constexpr std::uint16_t kMachineX86 = 0x014c;
inline constexpr std::uint16_t kMachineX64 = 0x8664;

// Why `image` (the start of the file; its first 4 KiB hold the headers) is not a DLL
// for `machine`, or nullopt when it is.
std::optional<std::string> dll_image_problem(std::string_view image, std::uint16_t machine);

}  // namespace sluice::lsp::install
