#include "provider/lsp/install/win_catalog_calls.h"

#include <winsock2.h>
#include <windows.h>
#include <ws2spi.h>
#include <sporder.h>

#include <algorithm>
#include <cwchar>
#include <map>

#include "common/platform/win_strings.h"

namespace sluice::lsp::install {
namespace {

using platform::narrow;
using platform::widen;

// The one place a Winsock error code becomes words.
[[noreturn]] void fail(const std::string& call, int code, const std::string& doing) {
  std::string text = doing + ": " + call + " failed: " + platform::win32_error_text(static_cast<DWORD>(code));
  if (code == WSANO_RECOVERY) {
    text += " (Winsock says this when the caller is not an elevated administrator, when the provider is already "
            "installed, and when the catalog in the registry cannot be written)";
  }
  throw CatalogError(text);
}

GUID to_win(const Guid& g) {
  GUID out;
  out.Data1 = g.data1;
  out.Data2 = g.data2;
  out.Data3 = g.data3;
  std::copy(std::begin(g.data4), std::end(g.data4), std::begin(out.Data4));
  return out;
}

Guid from_win(const GUID& g) {
  Guid out{};
  out.data1 = g.Data1;
  out.data2 = g.Data2;
  out.data3 = g.Data3;
  std::copy(std::begin(g.Data4), std::end(g.Data4), std::begin(out.data4));
  return out;
}

CatalogEntry from_win(const WSAPROTOCOL_INFOW& info) {
  CatalogEntry e;
  e.id = info.dwCatalogEntryId;
  e.provider = from_win(info.ProviderId);
  e.chain_length = info.ProtocolChain.ChainLen;
  if (e.chain_length > 1) {
    const int n = std::min(e.chain_length, static_cast<int>(MAX_PROTOCOL_CHAIN));
    e.chain.assign(info.ProtocolChain.ChainEntries, info.ProtocolChain.ChainEntries + n);
  }
  e.service_flags1 = info.dwServiceFlags1;
  e.service_flags2 = info.dwServiceFlags2;
  e.service_flags3 = info.dwServiceFlags3;
  e.service_flags4 = info.dwServiceFlags4;
  e.provider_flags = info.dwProviderFlags;
  e.version = info.iVersion;
  e.address_family = info.iAddressFamily;
  e.max_sockaddr = info.iMaxSockAddr;
  e.min_sockaddr = info.iMinSockAddr;
  e.socket_type = info.iSocketType;
  e.protocol = info.iProtocol;
  e.protocol_max_offset = info.iProtocolMaxOffset;
  e.network_byte_order = info.iNetworkByteOrder;
  e.security_scheme = info.iSecurityScheme;
  e.message_size = info.dwMessageSize;
  e.provider_reserved = info.dwProviderReserved;
  e.name = narrow(std::wstring_view(info.szProtocol, wcsnlen(info.szProtocol, WSAPROTOCOL_LEN + 1)));
  return e;
}

WSAPROTOCOL_INFOW to_win(const CatalogEntry& e) {
  WSAPROTOCOL_INFOW info{};
  info.dwServiceFlags1 = e.service_flags1;
  info.dwServiceFlags2 = e.service_flags2;
  info.dwServiceFlags3 = e.service_flags3;
  info.dwServiceFlags4 = e.service_flags4;
  info.dwProviderFlags = e.provider_flags;
  info.ProviderId = to_win(e.provider);
  info.dwCatalogEntryId = e.id;
  info.ProtocolChain.ChainLen = e.chain_length;
  std::copy_n(e.chain.begin(), std::min(e.chain.size(), static_cast<std::size_t>(MAX_PROTOCOL_CHAIN)),
              info.ProtocolChain.ChainEntries);
  info.iVersion = e.version;
  info.iAddressFamily = e.address_family;
  info.iMaxSockAddr = e.max_sockaddr;
  info.iMinSockAddr = e.min_sockaddr;
  info.iSocketType = e.socket_type;
  info.iProtocol = e.protocol;
  info.iProtocolMaxOffset = e.protocol_max_offset;
  info.iNetworkByteOrder = e.network_byte_order;
  info.iSecurityScheme = e.security_scheme;
  info.dwMessageSize = e.message_size;
  info.dwProviderReserved = e.provider_reserved;
  const std::wstring name = widen(e.name);  // the plan keeps names within WSAPROTOCOL_LEN
  std::copy_n(name.begin(), std::min(name.size(), static_cast<std::size_t>(WSAPROTOCOL_LEN)), info.szProtocol);
  return info;
}

std::vector<WSAPROTOCOL_INFOW> to_win(const std::vector<CatalogEntry>& entries) {
  std::vector<WSAPROTOCOL_INFOW> out;
  for (const auto& e : entries) out.push_back(to_win(e));
  return out;
}

using EnumProtocols = int(WSPAPI*)(LPINT, LPWSAPROTOCOL_INFOW, LPDWORD, LPINT);
using GetProviderPath = int(WSPAPI*)(LPGUID, WCHAR*, LPINT, LPINT);
using InstallProvider = int(WSPAPI*)(LPGUID, const WCHAR*, const LPWSAPROTOCOL_INFOW, DWORD, LPINT);
using DeinstallProvider = int(WSPAPI*)(LPGUID, LPINT);
using WriteProviderOrder = int(WSPAPI*)(LPDWORD, DWORD);
using SetProviderInfo = int(WSPAPI*)(LPGUID, WSC_PROVIDER_INFO_TYPE, PBYTE, size_t, DWORD, LPINT);

template <typename Function>
Function look_up(HMODULE ws2_32, const char* name) {
  return ws2_32 ? reinterpret_cast<Function>(reinterpret_cast<void*>(GetProcAddress(ws2_32, name))) : nullptr;
}

}  // namespace

const char* to_string(Which which) { return which == Which::catalog64 ? "64-bit catalog" : "32-bit catalog"; }

struct CatalogCalls::Optional {
  EnumProtocols enum_protocols32 = nullptr;
  GetProviderPath get_provider_path32 = nullptr;
  InstallProvider install_provider64_32 = nullptr;
  InstallProvider update_provider32 = nullptr;
  DeinstallProvider deinstall_provider32 = nullptr;
  WriteProviderOrder write_provider_order32 = nullptr;
  SetProviderInfo set_provider_info = nullptr;
  SetProviderInfo set_provider_info32 = nullptr;
};

CatalogCalls::CatalogCalls() : optional_(std::make_unique<Optional>()) {
  WSADATA data;
  if (const int error = WSAStartup(MAKEWORD(2, 2), &data); error != 0) fail("WSAStartup", error, "cannot use Winsock");
  const HMODULE ws2_32 = GetModuleHandleW(L"ws2_32.dll");
  optional_->enum_protocols32 = look_up<EnumProtocols>(ws2_32, "WSCEnumProtocols32");
  optional_->get_provider_path32 = look_up<GetProviderPath>(ws2_32, "WSCGetProviderPath32");
  optional_->install_provider64_32 = look_up<InstallProvider>(ws2_32, "WSCInstallProvider64_32");
  optional_->update_provider32 = look_up<InstallProvider>(ws2_32, "WSCUpdateProvider32");
  optional_->deinstall_provider32 = look_up<DeinstallProvider>(ws2_32, "WSCDeinstallProvider32");
  optional_->write_provider_order32 = look_up<WriteProviderOrder>(ws2_32, "WSCWriteProviderOrder32");
  optional_->set_provider_info = look_up<SetProviderInfo>(ws2_32, "WSCSetProviderInfo");
  optional_->set_provider_info32 = look_up<SetProviderInfo>(ws2_32, "WSCSetProviderInfo32");
}

CatalogCalls::~CatalogCalls() { WSACleanup(); }

std::vector<std::string> CatalogCalls::missing_32bit_reads() const {
  std::vector<std::string> missing;
  if (!optional_->enum_protocols32) missing.push_back("WSCEnumProtocols32");
  if (!optional_->get_provider_path32) missing.push_back("WSCGetProviderPath32");
  return missing;
}

std::vector<std::string> CatalogCalls::missing_32bit_writes() const {
  std::vector<std::string> missing = missing_32bit_reads();
  if (!optional_->install_provider64_32) missing.push_back("WSCInstallProvider64_32");
  if (!optional_->update_provider32) missing.push_back("WSCUpdateProvider32");
  if (!optional_->deinstall_provider32) missing.push_back("WSCDeinstallProvider32");
  if (!optional_->write_provider_order32) missing.push_back("WSCWriteProviderOrder32");
  return missing;
}

bool CatalogCalls::can_set_categories() const { return optional_->set_provider_info && optional_->set_provider_info32; }

Catalog CatalogCalls::read(Which which) {
  const bool native = which == Which::catalog64;
  const EnumProtocols enumerate = native ? &::WSCEnumProtocols : optional_->enum_protocols32;
  const GetProviderPath provider_path = native ? &::WSCGetProviderPath : optional_->get_provider_path32;
  const char* enum_name = native ? "WSCEnumProtocols" : "WSCEnumProtocols32";
  if (!enumerate || !provider_path) {
    std::string names;
    for (const auto& name : missing_32bit_reads()) names += (names.empty() ? "" : ", ") + name;
    throw CatalogError(std::string("cannot read the ") + to_string(which) + ": ws2_32.dll does not export " + names);
  }
  std::vector<WSAPROTOCOL_INFOW> buffer;
  int count = SOCKET_ERROR;
  // The catalog can grow between the size query and the read: ask again, a few times.
  for (int attempt = 0; count == SOCKET_ERROR; ++attempt) {
    DWORD bytes = static_cast<DWORD>(buffer.size() * sizeof(WSAPROTOCOL_INFOW));
    int error = 0;
    count = enumerate(nullptr, buffer.empty() ? nullptr : buffer.data(), &bytes, &error);
    if (count != SOCKET_ERROR) break;
    if (error != WSAENOBUFS || attempt == 3) fail(enum_name, error, std::string("cannot read the ") + to_string(which));
    buffer.resize(bytes / sizeof(WSAPROTOCOL_INFOW) + 1);
  }
  buffer.resize(static_cast<std::size_t>(count));

  Catalog catalog;
  std::map<std::string, std::string> paths;  // one WSCGetProviderPath per provider GUID
  for (const auto& info : buffer) {
    CatalogEntry e = from_win(info);
    const std::string key = to_string(e.provider);
    if (!paths.contains(key)) {
      GUID guid = info.ProviderId;
      WCHAR path[MAX_PATH + 1] = {};
      int length = MAX_PATH;
      int error = 0;
      // A provider without a path (Wine records none) reads as "": the plan then
      // sees a DLL that is not ours, which is the truth.
      if (provider_path(&guid, path, &length, &error) != 0) path[0] = L'\0';
      paths[key] = narrow(std::wstring_view(path, wcsnlen(path, MAX_PATH)));
    }
    e.dll_path = paths[key];
    catalog.push_back(std::move(e));
  }
  return catalog;
}

void CatalogCalls::refresh() {
  WSACleanup();
  WSADATA data;
  if (const int error = WSAStartup(MAKEWORD(2, 2), &data); error != 0) fail("WSAStartup", error, "cannot re-read the catalog");
}

void CatalogCalls::install_64(const Guid& provider, const std::string& dll, const std::vector<CatalogEntry>& entries) {
  GUID guid = to_win(provider);
  auto list = to_win(entries);
  int error = 0;
  if (WSCInstallProvider(&guid, widen(dll).c_str(), list.data(), static_cast<DWORD>(list.size()), &error) != 0) {
    fail("WSCInstallProvider", error, "cannot install " + to_string(provider) + " in the 64-bit catalog");
  }
}

void CatalogCalls::install_both(const Guid& provider, const std::string& dll, const std::vector<CatalogEntry>& entries) {
  if (!optional_->install_provider64_32) throw CatalogError("ws2_32.dll does not export WSCInstallProvider64_32");
  GUID guid = to_win(provider);
  auto list = to_win(entries);
  int error = 0;
  if (optional_->install_provider64_32(&guid, widen(dll).c_str(), list.data(), static_cast<DWORD>(list.size()),
                                       &error) != 0) {
    fail("WSCInstallProvider64_32", error, "cannot install " + to_string(provider) + " in the 64-bit and 32-bit catalogs");
  }
}

void CatalogCalls::update_32(const Guid& provider, const std::string& dll, const std::vector<CatalogEntry>& entries) {
  if (!optional_->update_provider32) throw CatalogError("ws2_32.dll does not export WSCUpdateProvider32");
  GUID guid = to_win(provider);
  auto list = to_win(entries);
  int error = 0;
  if (optional_->update_provider32(&guid, widen(dll).c_str(), list.data(), static_cast<DWORD>(list.size()), &error) != 0) {
    fail("WSCUpdateProvider32", error, "cannot correct " + to_string(provider) + " in the 32-bit catalog");
  }
}

void CatalogCalls::deinstall(Which which, const Guid& provider) {
  const bool native = which == Which::catalog64;
  const DeinstallProvider call = native ? &::WSCDeinstallProvider : optional_->deinstall_provider32;
  const char* name = native ? "WSCDeinstallProvider" : "WSCDeinstallProvider32";
  if (!call) throw CatalogError(std::string("ws2_32.dll does not export ") + name);
  GUID guid = to_win(provider);
  int error = 0;
  if (call(&guid, &error) != 0) fail(name, error, "cannot remove " + to_string(provider) + " from the " + to_string(which));
}

void CatalogCalls::write_order(Which which, const std::vector<std::uint32_t>& ids) {
  const bool native = which == Which::catalog64;
  const WriteProviderOrder call = native ? &::WSCWriteProviderOrder : optional_->write_provider_order32;
  const char* name = native ? "WSCWriteProviderOrder" : "WSCWriteProviderOrder32";
  if (!call) throw CatalogError(std::string("ws2_32.dll does not export ") + name);
  std::vector<DWORD> order(ids.begin(), ids.end());
  // Unlike the other calls, this one returns its error code.
  if (const int error = call(order.data(), static_cast<DWORD>(order.size())); error != 0) {
    fail(name, error, std::string("cannot reorder the ") + to_string(which));
  }
}

void CatalogCalls::set_categories(Which which, const Guid& provider, std::uint32_t categories) {
  const bool native = which == Which::catalog64;
  const SetProviderInfo call = native ? optional_->set_provider_info : optional_->set_provider_info32;
  const char* name = native ? "WSCSetProviderInfo" : "WSCSetProviderInfo32";
  if (!call) throw CatalogError(std::string("ws2_32.dll does not export ") + name);
  GUID guid = to_win(provider);
  DWORD value = categories;
  int error = 0;
  if (call(&guid, ProviderInfoLspCategories, reinterpret_cast<PBYTE>(&value), sizeof value, 0, &error) != 0) {
    fail(name, error, "cannot set the LSP categories of " + to_string(provider) + " in the " + to_string(which));
  }
}

}  // namespace sluice::lsp::install
