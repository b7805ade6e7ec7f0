#pragma once

// Who the Sluice LSP is in a Winsock catalog: the identity the catalog installer
// writes and the DLL looks for when it starts. Changing a GUID orphans every
// installed entry, so these never change.

#include <cstdint>

namespace sluice::lsp {

// A GUID as plain data, so platform-neutral code (the catalog plan and its tests)
// can use it without <guiddef.h>.
struct Guid {
  std::uint32_t data1;
  std::uint16_t data2, data3;
  std::uint8_t data4[8];
  bool operator==(const Guid&) const = default;
};

// The hidden layered entry (ChainLen 0, LAYERED_PROTOCOL).
inline constexpr Guid kLayeredProviderGuid{0xd4778df7, 0x6e72, 0x4e32, {0xb3, 0xdc, 0x96, 0xa2, 0xe8, 0xe1, 0xc0, 0x87}};
// Every protocol chain over a base provider (ChainLen >= 2) shares this one.
inline constexpr Guid kChainProviderGuid{0x4a7f5bf0, 0xd04f, 0x4ee7, {0xa7, 0x0f, 0x8c, 0x1b, 0xef, 0x2a, 0x27, 0xc6}};

// The DLL's file name; the installer records its full path in the catalog.
inline constexpr const char* kLspDllName = "sluice_lsp.dll";
// The layered entry's szProtocol; each chain is "Sluice over <base provider's name>".
inline constexpr const char* kLayeredProviderName = "Sluice LSP";
inline constexpr const char* kChainNamePrefix = "Sluice over ";

}  // namespace sluice::lsp
