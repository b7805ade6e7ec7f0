#include "service/relay/epoll_channel.h"

#include <fcntl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>

#include "net/posix_socket.h"

namespace sluice::relay::epoll {

namespace {

IoResult outcome(ssize_t n, bool reading) {
  IoResult r;
  if (n > 0) {
    r.bytes = static_cast<std::size_t>(n);
  } else if (n == 0 && reading) {
    r.eof = true;
  } else if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)) {
    r.again = true;
  } else if (n < 0) {
    r.error = errno;
  }
  return r;
}

}  // namespace

Channel::Channel(bool zero_copy, std::size_t capacity) {
  if (zero_copy) {
    if (::pipe2(pipe_, O_NONBLOCK | O_CLOEXEC) != 0) net::posix::throw_errno("pipe2");
    // The pipe's size bounds how far one side may run ahead of the other; the
    // kernel may refuse an unprivileged caller more than /proc/sys/fs/pipe-max-size.
    ::fcntl(pipe_[1], F_SETPIPE_SZ, static_cast<int>(capacity));
    const int actual = ::fcntl(pipe_[1], F_GETPIPE_SZ);
    capacity_ = actual > 0 ? static_cast<std::size_t>(actual) : 65536;
  } else {
    buffer_.resize(capacity);
    capacity_ = capacity;
  }
}

Channel::~Channel() {
  for (int fd : pipe_) {
    if (fd >= 0) ::close(fd);
  }
}

IoResult Channel::fill(int from, std::size_t max) {
  max = std::min(max, space());
  if (max == 0) return IoResult{.again = true};
  IoResult r;
  if (zero_copy()) {
    r = outcome(::splice(from, nullptr, pipe_[1], nullptr, max, SPLICE_F_MOVE | SPLICE_F_NONBLOCK), true);
  } else {
    if (head_ == size_) head_ = size_ = 0;  // empty: start over at the front
    if (head_ > 0 && head_ + size_ == capacity_) {
      std::copy(buffer_.begin() + static_cast<std::ptrdiff_t>(head_),
                buffer_.begin() + static_cast<std::ptrdiff_t>(head_ + size_), buffer_.begin());
      head_ = 0;
    }
    const std::size_t tail = head_ + size_;
    r = outcome(::recv(from, buffer_.data() + tail, std::min(max, capacity_ - tail), MSG_DONTWAIT), true);
  }
  size_ += r.bytes;
  return r;
}

IoResult Channel::drain(int to) {
  if (size_ == 0) return {};
  IoResult r;
  if (zero_copy()) {
    r = outcome(::splice(pipe_[0], nullptr, to, nullptr, size_, SPLICE_F_MOVE | SPLICE_F_NONBLOCK), false);
  } else {
    r = outcome(::send(to, buffer_.data() + head_, size_, MSG_DONTWAIT | MSG_NOSIGNAL), false);
    head_ += r.bytes;
  }
  size_ -= r.bytes;
  return r;
}

}  // namespace sluice::relay::epoll
