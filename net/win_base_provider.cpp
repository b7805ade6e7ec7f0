#include "net/win_base_provider.h"

#include <array>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "net/win_socket.h"

namespace sluice::net::win {

namespace {

// The four kinds of socket sluiced opens; anything else is looked up every time.
struct Remembered {
  int family, type, protocol;
  std::optional<WSAPROTOCOL_INFOW> entry;
};

std::mutex remembered_mutex;
std::array<Remembered, 4> remembered{{{AF_INET, SOCK_STREAM, IPPROTO_TCP, {}},
                                      {AF_INET6, SOCK_STREAM, IPPROTO_TCP, {}},
                                      {AF_INET, SOCK_DGRAM, IPPROTO_UDP, {}},
                                      {AF_INET6, SOCK_DGRAM, IPPROTO_UDP, {}}}};

std::vector<WSAPROTOCOL_INFOW> read_catalog() {
  // The catalog may grow between the two calls (an installer running): asked again
  // with the size the second answer gives, a bounded number of times.
  DWORD bytes = 0;
  std::vector<WSAPROTOCOL_INFOW> entries;
  for (int attempt = 0; attempt < 4; ++attempt) {
    entries.resize(bytes / sizeof(WSAPROTOCOL_INFOW) + 1);
    bytes = static_cast<DWORD>(entries.size() * sizeof(WSAPROTOCOL_INFOW));
    const int count = WSAEnumProtocolsW(nullptr, entries.data(), &bytes);
    if (count != SOCKET_ERROR) {
      entries.resize(static_cast<std::size_t>(count));
      return entries;
    }
    if (WSAGetLastError() != WSAENOBUFS) throw_last_error("WSAEnumProtocolsW");
  }
  throw_error(WSAENOBUFS, "WSAEnumProtocolsW");
}

WSAPROTOCOL_INFOW look_up(int family, int type, int protocol) {
  const std::vector<WSAPROTOCOL_INFOW> catalog = read_catalog();
  const int index = find_base_entry(catalog.data(), catalog.size(), family, type, protocol);
  if (index < 0) {
    throw_error(WSAEPROTONOSUPPORT, "no base provider in the Winsock catalog for family " + std::to_string(family) +
                                        ", type " + std::to_string(type) + ", protocol " + std::to_string(protocol));
  }
  return catalog[static_cast<std::size_t>(index)];
}

}  // namespace

int find_base_entry(const WSAPROTOCOL_INFOW* entries, std::size_t count, int family, int type, int protocol) {
  for (std::size_t i = 0; i < count; ++i) {
    const WSAPROTOCOL_INFOW& e = entries[i];
    if (e.ProtocolChain.ChainLen != BASE_PROTOCOL) continue;
    if (e.iAddressFamily == family && e.iSocketType == type && e.iProtocol == protocol) return static_cast<int>(i);
  }
  return -1;
}

WSAPROTOCOL_INFOW base_protocol_entry(int family, int type, int protocol) {
  std::lock_guard lock(remembered_mutex);
  for (Remembered& r : remembered) {
    if (r.family != family || r.type != type || r.protocol != protocol) continue;
    if (!r.entry) r.entry = look_up(family, type, protocol);
    return *r.entry;
  }
  return look_up(family, type, protocol);
}

void forget_base_protocol_entries() {
  std::lock_guard lock(remembered_mutex);
  for (Remembered& r : remembered) r.entry.reset();
}

}  // namespace sluice::net::win
