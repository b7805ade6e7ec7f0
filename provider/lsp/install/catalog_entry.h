#pragma once

// One Winsock catalog entry as plain data: every field of WSAPROTOCOL_INFOW plus the
// provider's DLL path (which the catalog keeps per provider GUID, read with
// WSCGetProviderPath). The catalog plan is computed on these, so it can be tested
// on every platform against catalogs recorded from Windows machines.

#include <cstdint>
#include <string>
#include <vector>

#include "provider/lsp/lsp_identity.h"

namespace sluice::lsp::install {

// The Winsock numbers the plan compares (winsock2.h, ws2def.h, ws2spi.h). Spelled
// out here because the plan never opens a socket and must build without windows.h.
namespace winsock {
inline constexpr int kAfInet = 2;
inline constexpr int kAfInet6 = 23;
inline constexpr int kSockStream = 1;
inline constexpr int kSockDgram = 2;
inline constexpr int kIpprotoTcp = 6;
inline constexpr int kIpprotoUdp = 17;

// ProtocolChain.ChainLen: 0 is a layered entry (LAYERED_PROTOCOL), 1 a base provider
// (BASE_PROTOCOL), 2 or more a protocol chain of layered ids ending in a base id.
inline constexpr int kLayeredProtocol = 0;
inline constexpr int kBaseProtocol = 1;
inline constexpr int kMaxProtocolChain = 7;  // MAX_PROTOCOL_CHAIN
inline constexpr std::size_t kMaxProtocolName = 255;  // WSAPROTOCOL_LEN, in UTF-16 units

inline constexpr std::uint32_t kPflHidden = 0x4;                 // PFL_HIDDEN
inline constexpr std::uint32_t kXp1IfsHandles = 0x20000;         // XP1_IFS_HANDLES
inline constexpr std::uint32_t kPflMatchesProtocolZero = 0x8;    // PFL_MATCHES_PROTOCOL_ZERO
inline constexpr std::uint32_t kXp1QosSupported = 0x2000;        // XP1_QOS_SUPPORTED

// LSP categories (WSCSetProviderInfo, ProviderInfoLspCategories).
inline constexpr std::uint32_t kLspProxy = 0x4;     // LSP_PROXY: redirects connections
inline constexpr std::uint32_t kLspFirewall = 0x8;  // LSP_FIREWALL: refuses some of them
}  // namespace winsock

struct CatalogEntry {
  std::uint32_t id = 0;  // dwCatalogEntryId; assigned by the catalog on install
  Guid provider{};       // ProviderId
  int chain_length = 0;  // ProtocolChain.ChainLen
  std::vector<std::uint32_t> chain;  // ProtocolChain.ChainEntries[0 .. chain_length), chains only
  std::uint32_t service_flags1 = 0, service_flags2 = 0, service_flags3 = 0, service_flags4 = 0;
  std::uint32_t provider_flags = 0;
  int version = 0;
  int address_family = 0;
  int max_sockaddr = 0, min_sockaddr = 0;
  int socket_type = 0;
  int protocol = 0;
  int protocol_max_offset = 0;
  int network_byte_order = 0;
  int security_scheme = 0;
  std::uint32_t message_size = 0;
  std::uint32_t provider_reserved = 0;
  std::string name;      // szProtocol, UTF-8
  std::string dll_path;  // the provider's DLL as the catalog records it, UTF-8

  bool is_layered() const { return chain_length == winsock::kLayeredProtocol; }
  bool is_base() const { return chain_length == winsock::kBaseProtocol; }
  bool is_chain() const { return chain_length > winsock::kBaseProtocol; }
  bool operator==(const CatalogEntry&) const = default;
};

// A catalog as WSCEnumProtocols / WSCEnumProtocols32 returns it: every entry, in
// provider order (the order Winsock searches when a program opens a socket).
using Catalog = std::vector<CatalogEntry>;

// "{D4778DF7-6E72-4E32-B3DC-96A2E8E1C087}", the way netsh and the registry show GUIDs.
std::string to_string(const Guid& guid);

}  // namespace sluice::lsp::install
