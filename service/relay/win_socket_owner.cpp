// Windows: who owns a socket, from the system's TCP and UDP tables with owning
// process ids (GetExtendedTcpTable / GetExtendedUdpTable).

#include <winsock2.h>
#include <ws2tcpip.h>
#include <windows.h>
#include <iphlpapi.h>

#include <cstring>
#include <vector>

#include "net/ip_address.h"
#include "net/socket_address.h"
#include "net/win_socket.h"
#include "service/relay/socket_owner.h"

namespace sluice::relay {
namespace {

struct TableRow {
  net::Endpoint local, remote;
  std::int64_t pid = -1;
};

std::string protocol_name(policy::Protocol protocol) { return protocol == policy::Protocol::udp ? "udp" : "tcp"; }

net::Endpoint ipv4_address(DWORD address, DWORD port) {
  const auto* b = reinterpret_cast<const std::uint8_t*>(&address);
  return net::Endpoint{net::ipv4(b[0], b[1], b[2], b[3]), ntohs(static_cast<u_short>(port))};
}

net::Endpoint ipv6_address(const UCHAR* address, DWORD port) {
  net::Endpoint out;
  std::memcpy(out.ip.bytes.data(), address, 16);
  out.port = ntohs(static_cast<u_short>(port));
  return out;
}

// Calls `get` (one of the two table functions) until its buffer is large enough;
// the table may grow between the calls, so a few tries. Empty on failure.
template <class Get>
std::vector<char> read_table(Get get) {
  std::vector<char> buffer(16 * 1024);
  for (int attempt = 0; attempt < 4; ++attempt) {
    DWORD size = static_cast<DWORD>(buffer.size());
    const DWORD result = get(buffer.data(), &size);
    if (result == NO_ERROR) return buffer;
    if (result != ERROR_INSUFFICIENT_BUFFER) return {};
    buffer.resize(size + 4096);
  }
  return {};
}

// The rows of a family's TCP or UDP table; false when it cannot be read.
bool table_rows(policy::Protocol protocol, bool ipv4, bool connections_only, std::vector<TableRow>& out) {
  const ULONG family = ipv4 ? AF_INET : AF_INET6;
  if (protocol == policy::Protocol::tcp) {
    const TCP_TABLE_CLASS which = connections_only ? TCP_TABLE_OWNER_PID_CONNECTIONS : TCP_TABLE_OWNER_PID_ALL;
    const auto buffer = read_table([&](void* data, DWORD* size) { return GetExtendedTcpTable(data, size, FALSE, family, which, 0); });
    if (buffer.empty()) return false;
    if (ipv4) {
      const auto* table = reinterpret_cast<const MIB_TCPTABLE_OWNER_PID*>(buffer.data());
      for (DWORD i = 0; i < table->dwNumEntries; ++i) {
        const auto& r = table->table[i];
        out.push_back(TableRow{ipv4_address(r.dwLocalAddr, r.dwLocalPort), ipv4_address(r.dwRemoteAddr, r.dwRemotePort), r.dwOwningPid});
      }
    } else {
      const auto* table = reinterpret_cast<const MIB_TCP6TABLE_OWNER_PID*>(buffer.data());
      for (DWORD i = 0; i < table->dwNumEntries; ++i) {
        const auto& r = table->table[i];
        out.push_back(TableRow{ipv6_address(r.ucLocalAddr, r.dwLocalPort), ipv6_address(r.ucRemoteAddr, r.dwRemotePort), r.dwOwningPid});
      }
    }
    return true;
  }
  const auto buffer = read_table([&](void* data, DWORD* size) { return GetExtendedUdpTable(data, size, FALSE, family, UDP_TABLE_OWNER_PID, 0); });
  if (buffer.empty()) return false;
  if (ipv4) {
    const auto* table = reinterpret_cast<const MIB_UDPTABLE_OWNER_PID*>(buffer.data());
    for (DWORD i = 0; i < table->dwNumEntries; ++i) {
      const auto& r = table->table[i];
      out.push_back(TableRow{ipv4_address(r.dwLocalAddr, r.dwLocalPort), {}, r.dwOwningPid});
    }
  } else {
    const auto* table = reinterpret_cast<const MIB_UDP6TABLE_OWNER_PID*>(buffer.data());
    for (DWORD i = 0; i < table->dwNumEntries; ++i) {
      const auto& r = table->table[i];
      out.push_back(TableRow{ipv6_address(r.ucLocalAddr, r.dwLocalPort), {}, r.dwOwningPid});
    }
  }
  return true;
}

// A socket of the base provider (no LSP under it: its connect would be steered into
// sluiced, which is starting), or INVALID_SOCKET.
SOCKET base_socket() {
  try {
    return net::win::open_socket(AF_INET, SOCK_STREAM, "owner probe socket").handle;
  } catch (const std::exception&) {
    return INVALID_SOCKET;
  }
}

// A loopback connection of this process's own, looked up in the table: does the
// row name this process? Any failure to set it up counts as yes, so the checks stay.
bool probe_owner_reporting() {
  struct Closer {
    SOCKET s;
    ~Closer() {
      if (s != INVALID_SOCKET) ::closesocket(s);
    }
  } listener{base_socket()}, client{base_socket()}, server{INVALID_SOCKET};
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  int length = sizeof address;
  if (listener.s == INVALID_SOCKET || client.s == INVALID_SOCKET ||
      ::bind(listener.s, reinterpret_cast<sockaddr*>(&address), sizeof address) != 0 || ::listen(listener.s, 1) != 0 ||
      ::getsockname(listener.s, reinterpret_cast<sockaddr*>(&address), &length) != 0 ||
      ::connect(client.s, reinterpret_cast<sockaddr*>(&address), sizeof address) != 0) {
    return true;
  }
  server.s = ::accept(listener.s, nullptr, nullptr);
  sockaddr_in own{};
  length = sizeof own;
  if (::getsockname(client.s, reinterpret_cast<sockaddr*>(&own), &length) != 0) return true;
  std::vector<TableRow> rows;
  if (!table_rows(policy::Protocol::tcp, true, true, rows)) return true;
  const net::Endpoint local = ipv4_address(own.sin_addr.s_addr, own.sin_port);
  for (const TableRow& r : rows) {
    if (r.local == local) return r.pid == static_cast<std::int64_t>(::GetCurrentProcessId());
  }
  return false;
}

}  // namespace

bool system_reports_socket_owners() {
  static const bool reports = probe_owner_reporting();
  return reports;
}

SocketIdentity find_owned_bound_socket(policy::Protocol protocol, const net::Endpoint& local, std::int64_t pid, std::intptr_t) {
  const std::string what = protocol_name(protocol) + " " + net::format_endpoint(local);
  if (pid <= 0) throw OwnershipError("cannot verify the local address " + what + ": the calling process is not known");
  if (!system_reports_socket_owners()) return SocketIdentity{0, -1, pid};
  std::vector<TableRow> rows;
  if (!table_rows(protocol, net::is_ipv4(local.ip), false, rows)) {
    throw OwnershipError("cannot verify the local address " + what + ": the system's " + protocol_name(protocol) +
                         " table cannot be read");
  }
  bool someone_else = false;
  for (const TableRow& r : rows) {
    if (r.local.port != local.port) continue;
    if (r.pid == pid) {
      if (r.local.ip == local.ip) return SocketIdentity{0, -1, pid};
      throw OwnershipError("the calling program's " + protocol_name(protocol) + " socket on port " + std::to_string(local.port) +
                           " is bound to " + net::format_endpoint(r.local) + ", not " + net::format_endpoint(local));
    }
    someone_else = someone_else || r.local.ip == local.ip;
  }
  if (someone_else) throw OwnershipError("the " + what + " socket is not the calling program's (pid " + std::to_string(pid) + ")");
  // Windows lists no TCP socket that is only bound (neither listening nor
  // connected), which is how a provider registers one: the claim stands for this
  // process alone, and the relay checks the connecting socket's owning process on
  // accept before it connects anywhere (connected_socket below).
  if (protocol == policy::Protocol::tcp) return SocketIdentity{0, -1, pid};
  throw OwnershipError("no " + what + " socket exists: the local address must be a socket of the calling program");
}

std::optional<SocketIdentity> connected_socket(const net::Endpoint& local, const net::Endpoint& remote) {
  std::vector<TableRow> rows;
  if (!table_rows(policy::Protocol::tcp, net::is_ipv4(local.ip), true, rows)) return std::nullopt;
  for (const TableRow& r : rows) {
    if (r.local == local && r.remote == remote) return SocketIdentity{0, -1, r.pid};
  }
  return std::nullopt;
}

bool same_socket(const SocketIdentity& registered, const SocketIdentity& connecting) {
  return registered.pid > 0 && registered.pid == connecting.pid;
}

}  // namespace sluice::relay
