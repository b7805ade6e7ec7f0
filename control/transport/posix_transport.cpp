// Unix-socket transport. The socket file is world-writable (0666) so local users can
// read status; what each caller may do is decided per method from SO_PEERCRED, which
// the kernel fills in and the caller cannot forge.

#include <fcntl.h>
#include <grp.h>
#include <poll.h>
#include <pwd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <climits>
#include <cstring>
#include <fstream>
#include <sstream>

#include "common/platform/platform.h"
#include "control/protocol/frame.h"
#include "control/transport/endpoint_trust.h"
#include "control/transport/posix_listening_socket.h"
#include "control/transport/transport.h"

namespace sluice::transport {
namespace {

using Clock = std::chrono::steady_clock;

[[noreturn]] void throw_errno(int err, const std::string& what) {
  ErrorKind kind = ErrorKind::other;
  switch (err) {
    case ENOENT:
    case ECONNREFUSED: kind = ErrorKind::not_running; break;
    case EACCES:
    case EPERM: kind = ErrorKind::access_denied; break;
    case EPIPE:
    case ECONNRESET: kind = ErrorKind::closed; break;
    case ETIMEDOUT: kind = ErrorKind::timed_out; break;
    case EADDRINUSE: kind = ErrorKind::in_use; break;
    default: break;
  }
  throw TransportError(kind, what + ": " + std::strerror(err));
}

sockaddr_un make_address(const std::string& path) {
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  if (path.empty()) throw TransportError(ErrorKind::invalid, "the control endpoint is empty");
  if (path.size() >= sizeof addr.sun_path) {
    throw TransportError(ErrorKind::invalid, "control socket path is too long (" + std::to_string(path.size()) +
                                                 " bytes, the limit is " + std::to_string(sizeof addr.sun_path - 1) +
                                                 "): " + path);
  }
  std::memcpy(addr.sun_path, path.data(), path.size());
  return addr;
}

int remaining_ms(Clock::time_point deadline) {
  auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now()).count();
  return left <= 0 ? 0 : static_cast<int>(std::min<long long>(left, INT_MAX));
}

// Waits for `events` on fd; false on timeout. Treats POLLHUP/POLLERR as ready so
// the following call reports the real condition.
bool wait_for(int fd, short events, Clock::time_point deadline) {
  for (;;) {
    pollfd p{fd, events, 0};
    int rc = ::poll(&p, 1, remaining_ms(deadline));
    if (rc > 0) return true;
    if (rc == 0) return false;
    if (errno != EINTR) throw_errno(errno, "poll");
  }
}

bool in_admin_group(pid_t pid, uid_t uid, gid_t gid) {
  const group* admin = ::getgrnam(kAdminGroup);
  if (!admin) return false;
  if (gid == admin->gr_gid) return true;
  // The groups the calling process actually holds, as the kernel reports them.
  std::ifstream status("/proc/" + std::to_string(pid) + "/status");
  std::string line;
  while (std::getline(status, line)) {
    if (line.rfind("Groups:", 0) != 0) continue;
    std::istringstream groups(line.substr(7));
    long g;
    while (groups >> g) {
      if (static_cast<gid_t>(g) == admin->gr_gid) return true;
    }
    return false;
  }
  (void)uid;
  return false;
}

#ifdef SO_PEERPIDFD
constexpr int kSoPeerPidfd = SO_PEERPIDFD;
#else
constexpr int kSoPeerPidfd = 77;  // Linux 6.5's value; older headers lack the name
#endif

protocol::Caller identify(int fd) {
  protocol::Caller caller;
  ucred cred{};
  socklen_t len = sizeof cred;
  if (::getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) != 0) return caller;
  caller.pid = cred.pid;
  caller.uid = cred.uid;
  if (const passwd* pw = ::getpwuid(cred.uid)) caller.account = pw->pw_name;
  else caller.account = std::to_string(cred.uid);
  caller.executable = platform::process_executable(cred.pid);
  caller.administrator = cred.uid == 0 || in_admin_group(cred.pid, cred.uid, cred.gid);
  // Pinned now, while the peer is connected: the pidfd names the very process that
  // connected, so the start time read next is checked to be its own. Without
  // SO_PEERPIDFD (kernels before 6.5) the start time alone names it.
  int pidfd = -1;
  len = sizeof pidfd;
  if (::getsockopt(fd, SOL_SOCKET, kSoPeerPidfd, &pidfd, &len) != 0) pidfd = -1;
  caller.process_handle = pidfd;
  const std::uint64_t start = platform::process_start_time(cred.pid);
  if (platform::same_process(cred.pid, 0, pidfd)) caller.process_start = start;
  return caller;
}

class SocketConnection final : public Connection {
 public:
  SocketConnection(int fd, protocol::Caller peer, bool server = false)
      : fd_(fd), peer_(std::move(peer)), server_(server) {}
  ~SocketConnection() override {
    ::close(fd_);
    platform::close_process_handle(peer_.process_handle);
  }

  std::size_t read_some(char* data, std::size_t size, std::chrono::milliseconds timeout) override {
    const auto deadline = Clock::now() + timeout;
    for (;;) {
      if (shut_.load()) throw TransportError(ErrorKind::closed, "connection shut down");
      if (!wait_for(fd_, POLLIN, deadline)) throw TransportError(ErrorKind::timed_out, "no data within the timeout");
      ssize_t n = ::recv(fd_, data, size, 0);
      if (n >= 0) {
        if (n == 0 && shut_.load()) throw TransportError(ErrorKind::closed, "connection shut down");
        return static_cast<std::size_t>(n);
      }
      if (errno == EINTR || errno == EAGAIN) continue;
      if (errno == ECONNRESET) return 0;  // the peer vanished: end of stream
      throw_errno(errno, "recv");
    }
  }

  void write_all(std::string_view data, std::chrono::milliseconds timeout) override {
    const auto deadline = Clock::now() + timeout;
    while (!data.empty()) {
      if (shut_.load()) throw TransportError(ErrorKind::closed, "connection shut down");
      ssize_t n = ::send(fd_, data.data(), data.size(), MSG_NOSIGNAL | MSG_DONTWAIT);
      if (n > 0) {
        data.remove_prefix(static_cast<std::size_t>(n));
        continue;
      }
      if (n < 0 && errno == EINTR) continue;
      if (n < 0 && errno == EAGAIN) {
        if (!wait_for(fd_, POLLOUT, deadline)) throw TransportError(ErrorKind::timed_out, "peer is not reading");
        continue;
      }
      throw_errno(errno, "send");
    }
  }

  const protocol::Caller& peer() const override { return peer_; }
  std::optional<protocol::Caller> peer_at_accept() const override {
    return server_ ? std::optional(peer_) : std::nullopt;
  }

  void shutdown() override {
    shut_.store(true);
    ::shutdown(fd_, SHUT_RDWR);  // wakes a poll() blocked in another thread
  }

 private:
  int fd_;
  protocol::Caller peer_;
  bool server_;
  std::atomic<bool> shut_{false};
};

int connect_socket(const std::string& path, std::chrono::milliseconds timeout) {
  sockaddr_un addr = make_address(path);
  int fd = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
  if (fd < 0) throw_errno(errno, "socket");
  const auto deadline = Clock::now() + timeout;
  for (;;) {
    if (::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0) break;
    const int err = errno;
    if (err == EINTR) continue;
    if (err == EAGAIN && Clock::now() < deadline) {
      // Backlog full: the server is alive but busy. Retry briefly until the deadline.
      ::usleep(10'000);
      continue;
    }
    ::close(fd);
    if (err == ENOENT) throw TransportError(ErrorKind::not_running, "no socket there");
    if (err == ECONNREFUSED) throw TransportError(ErrorKind::not_running, "nothing is listening there");
    if (err == EAGAIN) throw TransportError(ErrorKind::timed_out, "the service at " + path + " is not accepting");
    throw_errno(err, "cannot connect to " + path);
  }
  return fd;
}

class SocketListener final : public Listener, public ListeningSocket {
 public:
  explicit SocketListener(std::string path) : path_(std::move(path)) {
    sockaddr_un addr = make_address(path_);
    reclaim_stale_socket();
    if (auto slash = path_.rfind('/'); slash != std::string::npos && slash > 0) {
      platform::create_directories(path_.substr(0, slash), /*world_readable=*/true);
    }
    fd_ = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
    if (fd_ < 0) throw_errno(errno, "socket");
    if (::bind(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
      const int err = errno;
      ::close(fd_);
      throw_errno(err, "cannot bind " + path_);
    }
    ::chmod(path_.c_str(), 0666);
    struct stat st {};
    ::stat(path_.c_str(), &st);
    inode_ = st.st_ino;
    if (::listen(fd_, 128) != 0 || ::pipe2(wake_, O_CLOEXEC | O_NONBLOCK) != 0) {
      const int err = errno;
      ::close(fd_);
      ::unlink(path_.c_str());
      throw_errno(err, "cannot listen on " + path_);
    }
  }

  ~SocketListener() override {
    close();
    ::close(fd_);
    if (spare_ >= 0) ::close(spare_);
    ::close(wake_[0]);
    ::close(wake_[1]);
    // Remove the socket file only if it is still ours, not a successor's.
    struct stat st {};
    if (::stat(path_.c_str(), &st) == 0 && st.st_ino == inode_) ::unlink(path_.c_str());
  }

  std::unique_ptr<Connection> accept() override {
    for (;;) {
      if (closed_.load()) return nullptr;
      pollfd p[2] = {{fd_, POLLIN, 0}, {wake_[0], POLLIN, 0}};
      if (::poll(p, 2, -1) < 0) {
        if (errno == EINTR) continue;
        throw_errno(errno, "poll");
      }
      if (closed_.load()) return nullptr;
      if (auto client = accept_pending()) {
        // The blocking Connection waits with poll(), whatever the descriptor's mode.
        return std::make_unique<SocketConnection>(client->fd, std::move(client->caller), /*server=*/true);
      }
    }
  }

  int native_fd() const override { return fd_; }

  std::optional<AcceptedSocket> accept_pending() override {
    for (;;) {
      if (spare_ < 0) spare_ = open_spare();
      int client = ::accept4(fd_, nullptr, nullptr, SOCK_CLOEXEC | SOCK_NONBLOCK);
      if (client < 0) {
        if (errno == EINTR || errno == ECONNABORTED) continue;
        if (errno == EAGAIN) return std::nullopt;
        if (errno == EMFILE || errno == ENFILE) return accept_on_spare();
        throw_errno(errno, "accept");
      }
      return AcceptedSocket{client, identify(client)};
    }
  }

  void close() override {
    if (!closed_.exchange(true)) {
      char byte = 1;
      [[maybe_unused]] auto n = ::write(wake_[1], &byte, 1);
    }
  }

  const std::string& endpoint() const override { return path_; }

 private:
  // A live server answers a connect: refuse to steal its endpoint. A socket file
  // nobody answers on was left by a crash: remove it so we can bind.
  void reclaim_stale_socket() {
    struct stat st {};
    if (::lstat(path_.c_str(), &st) != 0) return;
    if (!S_ISSOCK(st.st_mode)) {
      throw TransportError(ErrorKind::invalid, path_ + " exists and is not a socket; refusing to replace it");
    }
    try {
      int fd = connect_socket(path_, std::chrono::milliseconds(200));
      ::close(fd);
    } catch (const TransportError& e) {
      if (e.kind() == ErrorKind::not_running) {
        ::unlink(path_.c_str());
        return;
      }
    }
    throw TransportError(ErrorKind::in_use, "another sluiced is already listening on " + path_);
  }

  static int open_spare() { return ::open("/dev/null", O_RDONLY | O_CLOEXEC); }

  // Out of descriptors, the pending client would stay in the backlog and poll()
  // would report it again at once: a spinning loop that lets nobody in. The spare
  // descriptor held for this is given up to take that client: root is served on
  // it (administrators must always get in), anyone else is told why and closed.
  // Without a spare (it is serving an administrator), back off instead.
  std::optional<AcceptedSocket> accept_on_spare() {
    if (spare_ < 0) {
      ::usleep(50'000);
      return std::nullopt;
    }
    ::close(spare_);
    spare_ = -1;
    const int client = ::accept4(fd_, nullptr, nullptr, SOCK_CLOEXEC | SOCK_NONBLOCK);
    if (client < 0) {
      spare_ = open_spare();
      ::usleep(10'000);
      return std::nullopt;
    }
    ucred cred{};
    socklen_t len = sizeof cred;
    const bool root = ::getsockopt(client, SOL_SOCKET, SO_PEERCRED, &cred, &len) == 0 && cred.uid == 0;
    if (root) return AcceptedSocket{client, identify(client)};
    const std::string refusal = protocol::encode_frame(
        protocol::make_error_response(nullptr, protocol::kServerBusy,
                                      "sluiced is out of file descriptors; only root is let in until some are freed")
            .dump());
    [[maybe_unused]] auto sent = ::send(client, refusal.data(), refusal.size(), MSG_NOSIGNAL | MSG_DONTWAIT);
    // Closing with the client's request unread would reset the connection, and the
    // client would see ECONNRESET instead of the refusal: take what has arrived.
    char sink[4096];
    for (int i = 0; i < 16 && ::recv(client, sink, sizeof sink, MSG_DONTWAIT) > 0; ++i) {
    }
    ::close(client);
    spare_ = open_spare();
    return std::nullopt;
  }

  std::string path_;
  int fd_ = -1;
  int spare_ = -1;  // a descriptor kept in reserve for accept_on_spare()
  int wake_[2] = {-1, -1};
  ino_t inode_ = 0;
  std::atomic<bool> closed_{false};
};

}  // namespace

std::unique_ptr<Listener> listen(const std::string& endpoint) { return std::make_unique<SocketListener>(endpoint); }

namespace {

void require_trusted(const std::string& endpoint) {
  if (auto why = control_socket_distrust(endpoint)) {
    throw TransportError(ErrorKind::untrusted, "not trusting this socket: " + *why);
  }
}

}  // namespace

std::unique_ptr<Connection> connect(const std::string& endpoint, std::chrono::milliseconds timeout) {
  // Before: so nothing connects to a planted socket at all. After: the socket
  // exists now, and is the one connected to (its directory lets nobody else swap it).
  require_trusted(endpoint);
  const int fd = connect_socket(endpoint, timeout);
  try {
    require_trusted(endpoint);
  } catch (...) {
    ::close(fd);
    throw;
  }
  return std::make_unique<SocketConnection>(fd, protocol::Caller{});
}

}  // namespace sluice::transport
