#include "provider/preload/real_calls.h"

#include <dlfcn.h>

namespace sluice::preload {

namespace {

template <typename F>
void resolve(F& target, const char* name) {
  target = reinterpret_cast<F>(::dlsym(RTLD_NEXT, name));
}

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
