#include "provider/preload/posix_control_channel.h"

#include <fcntl.h>
#include <poll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "control/transport/endpoint_trust.h"
#include "provider/preload/real_calls.h"

namespace sluice::preload {

namespace {

int remaining_ms(std::chrono::steady_clock::time_point deadline) {
  const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
  return left.count() <= 0 ? 0 : static_cast<int>(left.count());
}

// Waits for `events` on fd until the deadline; false on timeout or error.
bool wait_for(int fd, short events, std::chrono::steady_clock::time_point deadline) {
  for (;;) {
    pollfd p{fd, events, 0};
    const int ready = ::poll(&p, 1, remaining_ms(deadline));
    if (ready > 0) return (p.revents & (events | POLLHUP | POLLERR)) != 0;
    if (ready == 0) return false;
    if (errno != EINTR) return false;
  }
}

bool identity_of(int fd, unsigned long long& device, unsigned long long& inode) {
  struct stat st {};
  if (::fstat(fd, &st) != 0) return false;
  device = st.st_dev;
  inode = st.st_ino;
  return true;
}

// fd moved up out of the numbers programs count through (their own opens, their
// dup2 onto 0-2, their close loops from 3 upwards), close-on-exec; fd itself when
// no higher number is to be had.
int moved_high(int fd) {
  int floor = ControlChannel::kHighDescriptor;
  rlimit limit{};
  if (::getrlimit(RLIMIT_NOFILE, &limit) == 0 && limit.rlim_cur != RLIM_INFINITY &&
      limit.rlim_cur <= static_cast<rlim_t>(floor)) {
    floor = static_cast<int>(limit.rlim_cur / 2);
  }
  if (floor <= fd) return fd;
  const int high = real().fcntl(fd, F_DUPFD_CLOEXEC, floor);
  if (high < 0) return fd;
  real().close(fd);
  return high;
}

}  // namespace

void ControlChannel::disconnect() {
  if (is_open()) real().close(fd_);
  set_fd(-1);
}

bool ControlChannel::is_open() {
  if (fd_ < 0) return false;
  unsigned long long device = 0, inode = 0;
  if (identity_of(fd_, device, inode) && device == device_ && inode == inode_) return true;
  // Closed behind our back (a raw system call) and perhaps reused: not ours to close.
  set_fd(-1);
  return false;
}

void ControlChannel::set_fd(int fd) {
  fd_ = fd;
  published_fd_.store(fd, std::memory_order_release);
}

ControlChannel::Dropped ControlChannel::descriptors_closing(unsigned low, unsigned high, provider::ServiceClient& client) {
  // Every close in the program passes here: without the connection's number among
  // them, it returns at once, never waiting behind a registration. A number the
  // provider is opening right now and has not published yet is the fstat check's.
  const int published = published_fd_.load(std::memory_order_acquire);
  if (published < 0 || static_cast<unsigned>(published) < low || static_cast<unsigned>(published) > high) return {};
  const auto lock = client.lock_unless_held();
  Dropped dropped;
  if (fd_ < 0 || static_cast<unsigned>(fd_) < low || static_cast<unsigned>(fd_) > high) return dropped;
  dropped = Dropped{fd_, device_, inode_};
  set_fd(-1);  // the client sees a closed channel, and starts its next connection afresh
  return dropped;
}

void ControlChannel::close_if_unchanged(const Dropped& dropped) {
  if (dropped.fd < 0) return;
  unsigned long long device = 0, inode = 0;
  if (identity_of(dropped.fd, device, inode) && device == dropped.device && inode == dropped.inode) {
    real().close(dropped.fd);
  }
}

bool ControlChannel::connect(Clock::time_point deadline, bool* absent) {
  if (is_open()) return true;
  sockaddr_un address{};
  address.sun_family = AF_UNIX;
  if (path_.size() >= sizeof address.sun_path) return false;
  std::memcpy(address.sun_path, path_.c_str(), path_.size() + 1);
  // A socket someone else could have put there is no service: its answers would
  // steer this program's traffic. As if nothing listened (the fail mode decides).
  if (transport::control_socket_distrust(path_)) {
    if (absent) *absent = true;
    return false;
  }
  const int low = real().socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
  if (low < 0) return false;
  const int fd = moved_high(low);
  unsigned long long device = 0, inode = 0;
  if (!identity_of(fd, device, inode)) {
    real().close(fd);
    return false;
  }
  // Published before it is connected: a program closing every descriptor meanwhile
  // (another thread) waits for the lock and then takes the number, as it would later.
  device_ = device;
  inode_ = inode;
  set_fd(fd);
  if (real().connect(fd, reinterpret_cast<const sockaddr*>(&address), sizeof address) != 0) {
    // A Unix socket connects at once or, with a full backlog, not yet.
    if (errno != EAGAIN && errno != EINPROGRESS) {
      if (absent) *absent = errno == ECONNREFUSED || errno == ENOENT;
      disconnect();
      return false;
    }
    int error = 0;
    socklen_t length = sizeof error;
    if (!wait_for(fd, POLLOUT, deadline) || ::getsockopt(fd, SOL_SOCKET, SO_ERROR, &error, &length) != 0 || error != 0) {
      disconnect();
      return false;
    }
  }
  if (transport::control_socket_distrust(path_)) {  // again, now that it exists and is connected
    if (absent) *absent = true;
    disconnect();
    return false;
  }
  ucred peer{};
  socklen_t peer_length = sizeof peer;
  service_pid_ = ::getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &peer, &peer_length) == 0 ? peer.pid : 0;
  return true;
}

bool ControlChannel::send(const std::string& bytes, Clock::time_point deadline) {
  std::size_t sent = 0;
  while (sent < bytes.size()) {
    if (!is_open()) return false;
    const ssize_t n = real().sendto(fd_, bytes.data() + sent, bytes.size() - sent, MSG_NOSIGNAL, nullptr, 0);
    if (n > 0) {
      sent += static_cast<std::size_t>(n);
    } else if (n < 0 && errno == EINTR) {
      continue;
    } else if (n < 0 && errno == EAGAIN) {
      if (!wait_for(fd_, POLLOUT, deadline)) return false;
    } else {
      return false;
    }
  }
  return true;
}

bool ControlChannel::receive(char* buffer, std::size_t size, std::size_t* received, Clock::time_point deadline) {
  for (;;) {
    if (!is_open()) return false;
    const ssize_t n = real().recvfrom(fd_, buffer, size, 0, nullptr, nullptr);
    if (n > 0) {
      *received = static_cast<std::size_t>(n);
      return true;
    }
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 && errno == EAGAIN) {
      if (!wait_for(fd_, POLLIN, deadline)) return false;
      continue;
    }
    return false;  // the service closed the connection (idle timeout, restart)
  }
}

bool ControlChannel::hung_up() {
  pollfd p{fd_, POLLIN | POLLRDHUP, 0};
  return ::poll(&p, 1, 0) == 1 && (p.revents & (POLLHUP | POLLRDHUP | POLLERR)) != 0;
}

}  // namespace sluice::preload
