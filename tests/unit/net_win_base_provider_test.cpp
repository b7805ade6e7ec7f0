// net/win_base_provider: sluice's sockets are made from the base provider's catalog
// entry, so no LSP is under them whatever the executable is called. The choice is
// checked on catalogs recorded from Windows machines with an LSP installed (ours and
// another vendor's, first in provider order: what WSASocketW without an entry would
// take), and the real call path on this machine's catalog (Wine's has no layered
// entries, so there it shows the catalog is read and the entry used, not the choice).
#include "net/win_base_provider.h"

#include <ws2spi.h>
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "net/win_socket.h"
#include "tests/support/recorded_catalog.h"

namespace sluice::net::win {
namespace {

// The fields the choice reads (and the id it is checked by), from the recorded form.
std::vector<WSAPROTOCOL_INFOW> as_winsock(const lsp::install::Catalog& catalog) {
  std::vector<WSAPROTOCOL_INFOW> out;
  for (const auto& e : catalog) {
    WSAPROTOCOL_INFOW info{};
    info.dwCatalogEntryId = e.id;
    info.ProtocolChain.ChainLen = e.chain_length;
    for (std::size_t i = 0; i < e.chain.size() && i < MAX_PROTOCOL_CHAIN; ++i) info.ProtocolChain.ChainEntries[i] = e.chain[i];
    info.iAddressFamily = e.address_family;
    info.iSocketType = e.socket_type;
    info.iProtocol = e.protocol;
    info.dwServiceFlags1 = e.service_flags1;
    out.push_back(info);
  }
  return out;
}

// The catalog id find_base_entry() picks, 0 for none.
DWORD chosen(const std::vector<WSAPROTOCOL_INFOW>& catalog, int family, int type, int protocol) {
  const int index = find_base_entry(catalog.data(), catalog.size(), family, type, protocol);
  return index < 0 ? 0 : catalog[static_cast<std::size_t>(index)].dwCatalogEntryId;
}

// The first entry Winsock itself would take for these (no entry given to WSASocketW).
DWORD first_match(const std::vector<WSAPROTOCOL_INFOW>& catalog, int family, int type, int protocol) {
  for (const auto& e : catalog) {
    if (e.iAddressFamily == family && e.iSocketType == type && e.iProtocol == protocol) return e.dwCatalogEntryId;
  }
  return 0;
}

TEST(NetWinBaseProvider, AnotherVendorsChainFirstInOrderIsPassedOverForMsafd) {
  const auto catalog = as_winsock(test::recorded_catalog("win11_x64_vendor_lsp.catalog"));
  // The premise: without an entry, Winsock would make the relay's sockets through
  // the Sangfor chains (1014 over TCP/IPv4, 1015 over UDP/IPv4).
  ASSERT_EQ(first_match(catalog, AF_INET, SOCK_STREAM, IPPROTO_TCP), 1014u);
  ASSERT_EQ(first_match(catalog, AF_INET, SOCK_DGRAM, IPPROTO_UDP), 1015u);
  EXPECT_EQ(chosen(catalog, AF_INET, SOCK_STREAM, IPPROTO_TCP), 1006u);  // MSAFD Tcpip [TCP/IP]
  EXPECT_EQ(chosen(catalog, AF_INET, SOCK_DGRAM, IPPROTO_UDP), 1007u);   // MSAFD Tcpip [UDP/IP]
  EXPECT_EQ(chosen(catalog, AF_INET6, SOCK_STREAM, IPPROTO_TCP), 1003u); // MSAFD Tcpip [TCP/IPv6]
  EXPECT_EQ(chosen(catalog, AF_INET6, SOCK_DGRAM, IPPROTO_UDP), 1004u);  // MSAFD Tcpip [UDP/IPv6]
}

TEST(NetWinBaseProvider, OurOwnChainsArePassedOverSoSluicedNeedsNoExemption) {
  const auto catalog = as_winsock(test::recorded_catalog("win11_x64_sluice_installed.catalog"));
  for (int family : {AF_INET, AF_INET6}) {
    for (int type : {SOCK_STREAM, SOCK_DGRAM}) {
      const int protocol = type == SOCK_STREAM ? IPPROTO_TCP : IPPROTO_UDP;
      const DWORD id = chosen(catalog, family, type, protocol);
      ASSERT_NE(id, 0u) << family << "/" << type;
      EXPECT_NE(id, first_match(catalog, family, type, protocol)) << "the premise: our chain comes first";
      for (const auto& e : catalog) {
        if (e.dwCatalogEntryId == id) {
          EXPECT_EQ(e.ProtocolChain.ChainLen, BASE_PROTOCOL);
        }
      }
    }
  }
}

TEST(NetWinBaseProvider, NoBaseEntryIsNoEntry) {
  auto catalog = as_winsock(test::recorded_catalog("win11_x64_vendor_lsp.catalog"));
  std::erase_if(catalog, [](const WSAPROTOCOL_INFOW& e) { return e.ProtocolChain.ChainLen == BASE_PROTOCOL; });
  EXPECT_EQ(find_base_entry(catalog.data(), catalog.size(), AF_INET, SOCK_STREAM, IPPROTO_TCP), -1);
}

class NetWinBaseSocket : public ::testing::TestWithParam<int> {
 protected:
  WinsockSession winsock;
};

// On this machine's catalog: the socket open_socket() makes is of the entry the
// catalog names as the base provider for it.
TEST_P(NetWinBaseSocket, OpenSocketIsMadeFromTheBaseEntry) {
  const int family = GetParam();
  for (int type : {SOCK_STREAM, SOCK_DGRAM}) {
    const int protocol = type == SOCK_STREAM ? IPPROTO_TCP : IPPROTO_UDP;
    const WSAPROTOCOL_INFOW base = base_protocol_entry(family, type, protocol);
    EXPECT_EQ(base.ProtocolChain.ChainLen, BASE_PROTOCOL);
    Socket socket = open_socket(family, type, "test socket");
    WSAPROTOCOL_INFOW info{};
    int length = sizeof info;
    ASSERT_EQ(getsockopt(socket.handle, SOL_SOCKET, SO_PROTOCOL_INFOW, reinterpret_cast<char*>(&info), &length), 0);
    EXPECT_EQ(info.dwCatalogEntryId, base.dwCatalogEntryId);
    EXPECT_EQ(info.iProtocol, protocol);
    close(socket);
  }
}

INSTANTIATE_TEST_SUITE_P(Families, NetWinBaseSocket, ::testing::Values(AF_INET, AF_INET6),
                         [](const auto& info) { return info.param == AF_INET6 ? "IPv6" : "IPv4"; });

}  // namespace
}  // namespace sluice::net::win
