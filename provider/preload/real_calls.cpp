#include "provider/preload/real_calls.h"

#include <dlfcn.h>
#include <sys/syscall.h>
#include <unistd.h>

namespace sluice::preload {

namespace {

template <typename F>
void resolve(F& target, const char* name) {
  target = reinterpret_cast<F>(::dlsym(RTLD_NEXT, name));
}

int close_range_call(unsigned low, unsigned high, int flags) {
  return static_cast<int>(::syscall(SYS_close_range, low, high, flags));
}

void closefrom_call(int low) { (void)::syscall(SYS_close_range, static_cast<unsigned>(low), ~0U, 0); }

RealCalls load() {
  RealCalls calls{};
  resolve(calls.socket, "socket");
  resolve(calls.socketpair, "socketpair");
  resolve(calls.accept, "accept");
  resolve(calls.accept4, "accept4");
  resolve(calls.connect, "connect");
  resolve(calls.sendto, "sendto");
  resolve(calls.sendmsg, "sendmsg");
  resolve(calls.sendmmsg, "sendmmsg");
  resolve(calls.recvfrom, "recvfrom");
  resolve(calls.recvmsg, "recvmsg");
  resolve(calls.recvmmsg, "recvmmsg");
  resolve(calls.getpeername, "getpeername");
  resolve(calls.close, "close");
  resolve(calls.dup, "dup");
  resolve(calls.dup2, "dup2");
  resolve(calls.dup3, "dup3");
  resolve(calls.close_range, "close_range");
  if (calls.close_range == nullptr) calls.close_range = close_range_call;
  resolve(calls.closefrom, "closefrom");
  if (calls.closefrom == nullptr) calls.closefrom = closefrom_call;
  resolve(calls.fcntl, "fcntl");
  resolve(calls.fcntl64, "fcntl64");
  if (calls.fcntl64 == nullptr) calls.fcntl64 = calls.fcntl;
  resolve(calls.execve, "execve");
  resolve(calls.execvpe, "execvpe");
  resolve(calls.fexecve, "fexecve");
  return calls;
}

}  // namespace

const RealCalls& real() {
  static const RealCalls calls = load();
  return calls;
}

}  // namespace sluice::preload
