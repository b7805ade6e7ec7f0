// Linux: who owns a socket, from the kernel's socket tables (sock_diag netlink,
// NETLINK_INET_DIAG) and the caller's descriptors (/proc/PID/fd). sluiced runs as
// root (its systemd unit keeps CAP_SYS_PTRACE for /proc/PID/fd of other users).

#include <dirent.h>
#include <fcntl.h>
#include <linux/inet_diag.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <linux/sock_diag.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <functional>
#include <optional>
#include <vector>

#include "net/ip_address.h"
#include "net/socket_address.h"
#include "service/relay/socket_owner.h"

namespace sluice::relay {
namespace {

// The kernel's pseudo-state (TCP_BOUND_INACTIVE, Linux 6.8 and later) under which
// inet_diag lists TCP sockets that are bound but neither listening nor connected:
// the state a provider's socket is in when it registers. Not in the uapi headers.
constexpr unsigned kTcpBoundInactive = 13;

struct DiagEntry {
  net::Endpoint local;
  std::uint64_t inode = 0;
  std::int64_t uid = -1;
};

std::string protocol_name(policy::Protocol protocol) { return protocol == policy::Protocol::udp ? "udp" : "tcp"; }

int family_of(const net::Endpoint& address) { return net::is_ipv4(address.ip) ? AF_INET : AF_INET6; }

void put_address(const net::Endpoint& address, __be32 out[4]) {
  if (net::is_ipv4(address.ip)) {
    std::memcpy(out, address.ip.bytes.data() + 12, 4);
  } else {
    std::memcpy(out, address.ip.bytes.data(), 16);
  }
}

net::Endpoint address_of(int family, const __be32 in[4], __be16 port) {
  net::Endpoint out;
  if (family == AF_INET) {
    const auto* b = reinterpret_cast<const std::uint8_t*>(in);
    out.ip = net::ipv4(b[0], b[1], b[2], b[3]);
  } else {
    std::memcpy(out.ip.bytes.data(), in, 16);
  }
  out.port = ntohs(port);
  return out;
}

// One sock_diag request and its answers. Opened per query: a netlink socket held by
// every thread that might ask would cost descriptors the relay needs.
class SockDiag {
 public:
  SockDiag() : fd_(::socket(AF_NETLINK, SOCK_DGRAM | SOCK_CLOEXEC, NETLINK_SOCK_DIAG)) {}
  ~SockDiag() {
    if (fd_ >= 0) ::close(fd_);
  }
  SockDiag(const SockDiag&) = delete;
  SockDiag& operator=(const SockDiag&) = delete;

  // Sends `request` (with `bytecode`, a filter the kernel runs per socket) and
  // collects the sockets it answers. Returns 0 or the errno that stopped it; an exact
  // lookup that finds nothing is ENOENT.
  int query(const inet_diag_req_v2& request, bool dump, const std::vector<inet_diag_bc_op>& bytecode,
            std::vector<DiagEntry>& out) {
    if (fd_ < 0) return errno ? errno : EIO;
    const std::size_t bc_bytes = bytecode.size() * sizeof(inet_diag_bc_op);
    const std::size_t attr_bytes = bytecode.empty() ? 0 : RTA_SPACE(bc_bytes);
    std::vector<char> message(NLMSG_SPACE(sizeof request) + attr_bytes, 0);
    auto* header = reinterpret_cast<nlmsghdr*>(message.data());
    header->nlmsg_len = static_cast<std::uint32_t>(NLMSG_LENGTH(sizeof request) + attr_bytes);
    header->nlmsg_type = SOCK_DIAG_BY_FAMILY;
    header->nlmsg_flags = NLM_F_REQUEST | (dump ? NLM_F_DUMP : 0);
    header->nlmsg_seq = 1;
    std::memcpy(NLMSG_DATA(header), &request, sizeof request);
    if (!bytecode.empty()) {
      auto* attr = reinterpret_cast<rtattr*>(message.data() + NLMSG_SPACE(sizeof request));
      attr->rta_type = INET_DIAG_REQ_BYTECODE;
      attr->rta_len = static_cast<unsigned short>(RTA_LENGTH(bc_bytes));
      std::memcpy(RTA_DATA(attr), bytecode.data(), bc_bytes);
    }
    sockaddr_nl kernel{};
    kernel.nl_family = AF_NETLINK;
    if (::sendto(fd_, message.data(), header->nlmsg_len, 0, reinterpret_cast<sockaddr*>(&kernel), sizeof kernel) < 0) {
      return errno;
    }
    alignas(nlmsghdr) char buffer[32768];
    // A dump ends with NLMSG_DONE, an exact lookup with its one answer. Bounded: the
    // kernel ends every dump, and a read error ends the loop.
    for (;;) {
      const ssize_t n = ::recv(fd_, buffer, sizeof buffer, 0);
      if (n < 0) {
        if (errno == EINTR) continue;
        return errno;
      }
      if (n == 0) return EIO;
      int length = static_cast<int>(n);
      for (auto* h = reinterpret_cast<nlmsghdr*>(buffer); NLMSG_OK(h, length); h = NLMSG_NEXT(h, length)) {
        if (h->nlmsg_type == NLMSG_DONE) return 0;
        if (h->nlmsg_type == NLMSG_ERROR) {
          const auto* error = static_cast<const nlmsgerr*>(NLMSG_DATA(h));
          return error->error == 0 ? 0 : -error->error;
        }
        if (h->nlmsg_type != SOCK_DIAG_BY_FAMILY) continue;
        const auto* m = static_cast<const inet_diag_msg*>(NLMSG_DATA(h));
        if (m->idiag_inode == 0) continue;  // time-wait and request sockets belong to nobody
        out.push_back(DiagEntry{address_of(m->idiag_family, m->id.idiag_src, m->id.idiag_sport), m->idiag_inode,
                                static_cast<std::int64_t>(m->idiag_uid)});
      }
      if (!dump) return 0;
    }
  }

 private:
  int fd_;
};

inet_diag_req_v2 request_for(int family, policy::Protocol protocol) {
  inet_diag_req_v2 r{};
  r.sdiag_family = static_cast<std::uint8_t>(family);
  r.sdiag_protocol = protocol == policy::Protocol::udp ? IPPROTO_UDP : IPPROTO_TCP;
  r.id.idiag_cookie[0] = INET_DIAG_NOCOOKIE;
  r.id.idiag_cookie[1] = INET_DIAG_NOCOOKIE;
  return r;
}

// Which of `inodes` process `pid` holds a descriptor of; 0 when none. Throws when
// its descriptors cannot be read (no such process, or no permission). The newest
// descriptors are looked at first: a socket that was just bound and registered is
// usually the highest-numbered one, so a program with thousands of descriptors
// does not make every registration read them all.
std::uint64_t held_inode(std::int64_t pid, const std::vector<std::uint64_t>& inodes) {
  const std::string path = "/proc/" + std::to_string(pid) + "/fd";
  DIR* dir = ::opendir(path.c_str());
  if (!dir) {
    throw OwnershipError("cannot verify the local address: the descriptors of the calling process (" + path +
                         ") cannot be read: " + std::strerror(errno));
  }
  std::vector<int> descriptors;
  while (dirent* entry = ::readdir(dir)) {
    int fd = -1;
    const std::string_view name(entry->d_name);
    const auto [end, error] = std::from_chars(name.data(), name.data() + name.size(), fd);
    if (error == std::errc() && end == name.data() + name.size()) descriptors.push_back(fd);
  }
  std::sort(descriptors.begin(), descriptors.end(), std::greater<>());
  std::uint64_t found = 0;
  const int dir_fd = ::dirfd(dir);
  constexpr std::string_view kPrefix = "socket:[";
  for (int fd : descriptors) {
    char target[64];
    const ssize_t n = ::readlinkat(dir_fd, std::to_string(fd).c_str(), target, sizeof target);
    if (n <= static_cast<ssize_t>(kPrefix.size()) || std::string_view(target, kPrefix.size()) != kPrefix) continue;
    std::uint64_t inode = 0;
    const auto [end, error] = std::from_chars(target + kPrefix.size(), target + n, inode);
    if (error != std::errc() || end == target + n || *end != ']') continue;
    if (std::find(inodes.begin(), inodes.end(), inode) != inodes.end()) {
      found = inode;
      break;
    }
  }
  ::closedir(dir);
  return found;
}

// The size of the process's descriptor table (FDSize in /proc/PID/status); 0 when
// unknown.
int descriptor_table_size(std::int64_t pid) {
  std::ifstream status("/proc/" + std::to_string(pid) + "/status");
  std::string line;
  while (std::getline(status, line)) {
    if (line.rfind("FDSize:", 0) == 0) return std::atoi(line.c_str() + 7);
  }
  return 0;
}

constexpr int kMaxDescriptorsExamined = 65536;

// The fast way, where the kernel allows it (pidfd_getfd, Linux 5.6, with the
// ptrace access sluiced has as root): take each of the process's descriptors in
// turn, newest first, and ask the socket itself what it is bound to. A socket just
// bound and registered is usually the highest-numbered descriptor, so this costs a
// few system calls, whatever the machine's socket tables hold. nullopt when the
// kernel refuses pidfd_getfd (then the tables are read instead); throws when the
// process holds no such socket.
std::optional<SocketIdentity> find_through_pidfd(policy::Protocol protocol, const net::Endpoint& local, std::int64_t pid,
                                                 std::intptr_t pidfd, const std::string& what) {
  if (pidfd < 0) return std::nullopt;
  const int table = descriptor_table_size(pid);
  if (table <= 0) return std::nullopt;
  const int want_type = protocol == policy::Protocol::udp ? SOCK_DGRAM : SOCK_STREAM;
  std::optional<net::Endpoint> elsewhere;
  int examined = 0;
  for (int fd = table - 1; fd >= 0; --fd) {
    const long copy = ::syscall(SYS_pidfd_getfd, static_cast<int>(pidfd), fd, 0);
    if (copy < 0) {
      if (errno == EBADF) continue;  // no descriptor there
      if (errno == ESRCH) throw OwnershipError("the calling process (pid " + std::to_string(pid) + ") has ended");
      return std::nullopt;           // EPERM, ENOSYS: not allowed here
    }
    const int dup = static_cast<int>(copy);
    if (++examined > kMaxDescriptorsExamined) {
      ::close(dup);
      throw OwnershipError("cannot verify the local address " + what + ": the calling program holds more than " +
                           std::to_string(kMaxDescriptorsExamined) + " descriptors");
    }
    struct stat st {};
    int type = 0, domain = 0;
    socklen_t length = sizeof type;
    sockaddr_storage bound{};
    socklen_t bound_length = sizeof bound;
    const bool socket = ::fstat(dup, &st) == 0 && S_ISSOCK(st.st_mode) &&
                        ::getsockopt(dup, SOL_SOCKET, SO_TYPE, &type, &length) == 0 && type == want_type &&
                        (length = sizeof domain, ::getsockopt(dup, SOL_SOCKET, SO_DOMAIN, &domain, &length) == 0) &&
                        domain == family_of(local) &&
                        ::getsockname(dup, reinterpret_cast<sockaddr*>(&bound), &bound_length) == 0;
    ::close(dup);
    if (!socket) continue;
    const net::Endpoint address = net::from_sockaddr(reinterpret_cast<const sockaddr*>(&bound), bound_length).value_or(net::Endpoint{});
    if (address.port != local.port) continue;
    if (address.ip == local.ip) return SocketIdentity{static_cast<std::uint64_t>(st.st_ino), static_cast<std::int64_t>(st.st_uid), -1};
    elsewhere = address;
  }
  if (elsewhere) {
    throw OwnershipError("the calling program's " + protocol_name(protocol) + " socket on port " + std::to_string(local.port) +
                         " is bound to " + net::format_endpoint(*elsewhere) + ", not " + net::format_endpoint(local));
  }
  // Nothing of the caller's: say whether somebody else holds it (one table read,
  // on the refusal path only).
  return std::nullopt;
}

}  // namespace

SocketIdentity find_owned_bound_socket(policy::Protocol protocol, const net::Endpoint& local, std::int64_t pid,
                                       std::intptr_t process_handle) {
  const std::string what = protocol_name(protocol) + " " + net::format_endpoint(local);
  if (pid <= 0) throw OwnershipError("cannot verify the local address " + what + ": the calling process is not known");
  if (auto found = find_through_pidfd(protocol, local, pid, process_handle, what)) return *found;

  // Every socket of the family bound to the port; the kernel filters by port.
  inet_diag_req_v2 request = request_for(family_of(local), protocol);
  request.idiag_states = ~0u;  // includes 1 << kTcpBoundInactive
  static_assert(kTcpBoundInactive < 32);
  std::vector<inet_diag_bc_op> bytecode(2);
  bytecode[0] = inet_diag_bc_op{INET_DIAG_BC_S_EQ, 2 * sizeof(inet_diag_bc_op), 3 * sizeof(inet_diag_bc_op)};
  bytecode[1] = inet_diag_bc_op{0, 0, local.port};
  std::vector<DiagEntry> sockets;
  SockDiag diag;
  if (const int error = diag.query(request, true, bytecode, sockets); error != 0) {
    throw OwnershipError("cannot verify the local address " + what + ": the kernel's socket table (sock_diag) cannot be read: " +
                         std::strerror(error));
  }
  std::vector<std::uint64_t> exact, elsewhere;
  for (const DiagEntry& s : sockets) {
    if (s.local.port != local.port) continue;
    (s.local.ip == local.ip ? exact : elsewhere).push_back(s.inode);
  }
  if (exact.empty() && elsewhere.empty()) {
    throw OwnershipError("no " + what + " socket exists: the local address must be a socket of the calling program");
  }
  std::vector<std::uint64_t> all = exact;
  all.insert(all.end(), elsewhere.begin(), elsewhere.end());
  const std::uint64_t held = held_inode(pid, all);
  for (const DiagEntry& s : sockets) {
    if (held == 0 || s.inode != held) continue;
    if (s.local.ip == local.ip) return SocketIdentity{s.inode, s.uid, -1};
    // The caller's socket, bound elsewhere: a wildcard claim for a socket bound to one
    // address (or the other way round) would let it catch connections not its own.
    throw OwnershipError("the calling program's " + protocol_name(protocol) + " socket on port " + std::to_string(local.port) +
                         " is bound to " + net::format_endpoint(s.local) + ", not " + net::format_endpoint(local));
  }
  throw OwnershipError("the " + what + " socket is not the calling program's (pid " + std::to_string(pid) + ")");
}

std::optional<SocketIdentity> connected_socket(const net::Endpoint& local, const net::Endpoint& remote) {
  inet_diag_req_v2 request = request_for(family_of(local), policy::Protocol::tcp);
  request.idiag_states = ~0u;
  request.id.idiag_sport = htons(local.port);
  request.id.idiag_dport = htons(remote.port);
  put_address(local, request.id.idiag_src);
  put_address(remote, request.id.idiag_dst);
  std::vector<DiagEntry> sockets;
  SockDiag diag;
  if (diag.query(request, false, {}, sockets) != 0 || sockets.size() != 1) return std::nullopt;
  return SocketIdentity{sockets[0].inode, sockets[0].uid, -1};
}

bool system_reports_socket_owners() { return true; }

bool same_socket(const SocketIdentity& registered, const SocketIdentity& connecting) {
  return registered.inode != 0 && registered.inode == connecting.inode && registered.uid == connecting.uid;
}

}  // namespace sluice::relay
