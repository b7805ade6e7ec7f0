#pragma once

// The C library's own socket and process calls, found behind this library with
// dlsym(RTLD_NEXT). The provider calls these, never its own interposed versions,
// so its registrations and relays cannot recurse into themselves.

#include <sys/socket.h>
#include <sys/types.h>

namespace sluice::preload {

struct RealCalls {
  int (*socket)(int, int, int);
  int (*socketpair)(int, int, int, int*);
  int (*accept)(int, sockaddr*, socklen_t*);
  int (*accept4)(int, sockaddr*, socklen_t*, int);
  int (*connect)(int, const sockaddr*, socklen_t);
  ssize_t (*sendto)(int, const void*, size_t, int, const sockaddr*, socklen_t);
  ssize_t (*sendmsg)(int, const msghdr*, int);
  int (*sendmmsg)(int, mmsghdr*, unsigned, int);
  ssize_t (*recvfrom)(int, void*, size_t, int, sockaddr*, socklen_t*);
  ssize_t (*recvmsg)(int, msghdr*, int);
  int (*recvmmsg)(int, mmsghdr*, unsigned, int, struct timespec*);
  int (*getpeername)(int, sockaddr*, socklen_t*);
  int (*close)(int);
  int (*dup)(int);
  int (*dup2)(int, int);
  int (*dup3)(int, int, int);
  int (*close_range)(unsigned, unsigned, int);  // the system call itself on a C library without it
  void (*closefrom)(int);                       // close_range(low, ~0U, 0) on a C library without it
  int (*fcntl)(int, int, ...);
  int (*fcntl64)(int, int, ...);  // what programs built with 64-bit file offsets call
  int (*execve)(const char*, char* const[], char* const[]);
  int (*execvpe)(const char*, char* const[], char* const[]);
  int (*fexecve)(int, char* const[], char* const[]);
};

// Resolved on first use (a program's own constructors may call us before ours runs).
const RealCalls& real();

}  // namespace sluice::preload
