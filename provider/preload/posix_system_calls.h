#pragma once

// The steering core's system calls (provider/core/system_calls.h) on Linux: the C
// library's bind and getsockname on a descriptor, and errno.

#include <sys/socket.h>

#include <cerrno>

#include "provider/core/system_calls.h"

namespace sluice::preload {

class PosixSocketCalls final : public provider::SocketCalls {
 public:
  explicit PosixSocketCalls(int fd) : fd_(fd) {}
  int get_local_address(sockaddr_storage& address, int& length) override {
    socklen_t n = sizeof address;
    const int rc = ::getsockname(fd_, reinterpret_cast<sockaddr*>(&address), &n);
    length = static_cast<int>(n);
    return rc;
  }
  int bind(const sockaddr* address, int length) override { return ::bind(fd_, address, static_cast<socklen_t>(length)); }

 private:
  const int fd_;
};

class Errno final : public provider::ErrorCode {
 public:
  int get() const override { return errno; }
  void set(int code) override { errno = code; }
};

}  // namespace sluice::preload
