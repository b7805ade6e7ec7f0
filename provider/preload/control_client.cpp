#include "provider/preload/control_client.h"

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

// Set while this thread holds the client's lock: a signal handler that closes
// descriptors in the middle of our own call must not wait for the lock it interrupted.
thread_local bool in_client_call = false;

class ClientCall {
 public:
  ClientCall() { in_client_call = true; }
  ~ClientCall() { in_client_call = false; }
  ClientCall(const ClientCall&) = delete;
  ClientCall& operator=(const ClientCall&) = delete;
};

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
  int floor = ControlClient::kHighDescriptor;
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

ControlClient::~ControlClient() {
  std::lock_guard lock(mutex_);
  disconnect_locked();
}

void ControlClient::disconnect_locked() {
  if (still_ours_locked()) real().close(fd_);
  set_fd_locked(-1);
  decoder_ = protocol::FrameDecoder();
}

bool ControlClient::still_ours_locked() {
  if (fd_ < 0) return false;
  unsigned long long device = 0, inode = 0;
  if (identity_of(fd_, device, inode) && device == device_ && inode == inode_) return true;
  // Closed behind our back (a raw system call) and perhaps reused: not ours to close.
  set_fd_locked(-1);
  decoder_ = protocol::FrameDecoder();
  return false;
}

void ControlClient::set_fd_locked(int fd) {
  fd_ = fd;
  published_fd_.store(fd, std::memory_order_release);
}

ControlClient::Dropped ControlClient::descriptors_closing(unsigned low, unsigned high) {
  // Every close in the program passes here: without the connection's number among
  // them, it returns at once, never waiting behind a registration. A number the
  // provider is opening right now and has not published yet is the fstat check's.
  const int published = published_fd_.load(std::memory_order_acquire);
  if (published < 0 || static_cast<unsigned>(published) < low || static_cast<unsigned>(published) > high) return {};
  std::unique_lock lock(mutex_, std::defer_lock);
  if (!in_client_call) lock.lock();
  Dropped dropped;
  if (fd_ < 0 || static_cast<unsigned>(fd_) < low || static_cast<unsigned>(fd_) > high) return dropped;
  dropped = Dropped{fd_, device_, inode_};
  set_fd_locked(-1);
  decoder_ = protocol::FrameDecoder();
  return dropped;
}

void ControlClient::close_if_unchanged(const Dropped& dropped) {
  if (dropped.fd < 0) return;
  unsigned long long device = 0, inode = 0;
  if (identity_of(dropped.fd, device, inode) && device == dropped.device && inode == dropped.inode) {
    real().close(dropped.fd);
  }
}

void ControlClient::after_fork_in_child() {
  // The descriptor is shared with the parent: closing our copy leaves its connection be.
  disconnect_locked();
  mutex_.unlock();
}

bool ControlClient::connect_locked(Clock::time_point deadline, bool* absent) {
  if (still_ours_locked()) return true;
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
  set_fd_locked(fd);
  if (real().connect(fd, reinterpret_cast<const sockaddr*>(&address), sizeof address) != 0) {
    // A Unix socket connects at once or, with a full backlog, not yet.
    if (errno != EAGAIN && errno != EINPROGRESS) {
      if (absent) *absent = errno == ECONNREFUSED || errno == ENOENT;
      disconnect_locked();
      return false;
    }
    int error = 0;
    socklen_t length = sizeof error;
    if (!wait_for(fd, POLLOUT, deadline) || ::getsockopt(fd, SOL_SOCKET, SO_ERROR, &error, &length) != 0 || error != 0) {
      disconnect_locked();
      return false;
    }
  }
  if (transport::control_socket_distrust(path_)) {  // again, now that it exists and is connected
    if (absent) *absent = true;
    disconnect_locked();
    return false;
  }
  ucred peer{};
  socklen_t peer_length = sizeof peer;
  service_pid_ = ::getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &peer, &peer_length) == 0 ? peer.pid : 0;
  return true;
}

bool ControlClient::send_locked(const std::string& payload, Clock::time_point deadline) {
  const std::string frame = protocol::encode_frame(payload);
  std::size_t sent = 0;
  while (sent < frame.size()) {
    if (!still_ours_locked()) return false;
    const ssize_t n = real().sendto(fd_, frame.data() + sent, frame.size() - sent, MSG_NOSIGNAL, nullptr, 0);
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

bool ControlClient::receive_locked(std::string& payload, Clock::time_point deadline) {
  char buffer[4096];
  for (;;) {
    try {
      if (decoder_.next(payload)) return true;
    } catch (const protocol::FrameTooLarge&) {
      return false;
    }
    if (!still_ours_locked()) return false;
    const ssize_t n = real().recvfrom(fd_, buffer, sizeof buffer, 0, nullptr, nullptr);
    if (n > 0) {
      decoder_.feed(buffer, static_cast<std::size_t>(n));
    } else if (n < 0 && errno == EINTR) {
      continue;
    } else if (n < 0 && errno == EAGAIN) {
      if (!wait_for(fd_, POLLIN, deadline)) return false;
    } else {
      return false;  // the service closed the connection (idle timeout, restart)
    }
  }
}

std::optional<provider::RegisterAnswer> ControlClient::register_flow(const provider::RegisterRequest& request,
                                                                      std::chrono::milliseconds timeout) {
  const int saved_errno = errno;  // the program sees only its own call's errno
  const auto deadline = Clock::now() + timeout;
  std::optional<provider::RegisterAnswer> answer;
  try {
    std::lock_guard lock(mutex_);
    const ClientCall call;
    // A kept connection the service has since dropped fails on first use: try once more on a fresh one.
    for (int attempt = 0; attempt < 2 && !answer; ++attempt) {
      const bool reused = still_ours_locked();
      if (!connect_locked(deadline)) break;
      const std::int64_t id = next_id_++;
      std::string reply;
      if (send_locked(provider::encode_register(request, id), deadline) && receive_locked(reply, deadline)) {
        // An error answer (a relay that could not be set up) decodes to nothing; the
        // connection stays in step either way, since the reply was read whole.
        answer = provider::decode_register_answer(reply, id);
        if (answer) {
          answer->service_instance = service_pid_;
          last_service_.store(service_pid_);
        }
        break;
      }
      disconnect_locked();
      if (!reused || Clock::now() >= deadline) break;
    }
  } catch (...) {
    // Out of memory in a program we live in: behave as if the service were silent.
    answer.reset();
  }
  errno = saved_errno;
  return answer;
}

std::int64_t ControlClient::current_service() {
  const auto now = Clock::now();
  if (now.time_since_epoch().count() < next_service_check_.load(std::memory_order_relaxed)) return last_service_.load();
  std::unique_lock lock(mutex_, std::try_to_lock);
  if (!lock.owns_lock()) return last_service_.load();  // a registration is talking to it right now
  const ClientCall call;
  next_service_check_.store((now + kServiceCheckInterval).time_since_epoch().count(), std::memory_order_relaxed);
  const int saved_errno = errno;
  if (still_ours_locked()) {
    // The service never speaks unasked: a hang-up is all there is to see.
    pollfd p{fd_, POLLIN | POLLRDHUP, 0};
    if (::poll(&p, 1, 0) == 1 && (p.revents & (POLLHUP | POLLRDHUP | POLLERR))) disconnect_locked();
  }
  if (fd_ >= 0) {
    last_service_.store(service_pid_);
  } else {
    // Dropped by the service (idle) or by its end: a new connection tells which.
    bool absent = false;
    if (connect_locked(now + std::chrono::milliseconds(50), &absent)) {
      last_service_.store(service_pid_);
    } else if (absent) {
      last_service_.store(0);
    }
  }
  errno = saved_errno;
  return last_service_.load();
}

void ControlClient::release(std::uint64_t flow_id) {
  const int saved_errno = errno;
  try {
    std::lock_guard lock(mutex_);
    const ClientCall call;
    const auto deadline = Clock::now() + std::chrono::milliseconds(100);
    // As in register_flow: a kept connection the service has since dropped (its idle
    // timeout, well within a socket's life) fails on first use, so once more on a
    // fresh one. A lost release would leave the flow open in the service.
    for (int attempt = 0; attempt < 2; ++attempt) {
      const bool reused = still_ours_locked();
      if (!connect_locked(deadline)) break;
      if (send_locked(provider::encode_release(flow_id), deadline)) break;
      disconnect_locked();
      if (!reused) break;
    }
  } catch (...) {
  }
  errno = saved_errno;
}

}  // namespace sluice::preload
