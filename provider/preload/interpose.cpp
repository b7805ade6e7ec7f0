// The calls libsluice_preload.so takes over from the C library. Each one does the
// real call unchanged unless the socket is an IPv4/IPv6 TCP or UDP socket whose
// destination the policy relays or blocks; everything it learns is cached per
// socket (socket_table.h), so non-matching traffic costs a table lookup.
//
// errno is the program's: the provider's own work never changes what a call reports,
// except for a refused flow (ECONNREFUSED for TCP, EACCES for UDP) and a datagram
// whose relay association died with the service (ECONNREFUSED, once).

#include <fcntl.h>
#include <linux/close_range.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstdarg>
#include <string>
#include <vector>

#include "provider/preload/exec_handoff.h"
#include "provider/preload/provider.h"
#include "provider/preload/real_calls.h"

#define SLUICE_INTERPOSE extern "C" __attribute__((visibility("default")))

extern char** environ;

namespace sluice::preload {

namespace {

// What to do with one outgoing address.
enum class Steer { unchanged, redirected, refused };

// Decides a connect or datagram to `to` on fd (provider/core/steering.h). On
// `redirected`, `out` holds the address to use instead; on `refused`, errno is set.
// `connecting` says the socket is being connected (also TCP Fast Open), so
// getpeername must report the original destination.
Steer steer(int fd, const sockaddr* to, socklen_t to_length, bool connecting, sockaddr_storage& out,
            socklen_t& out_length) {
  if (to == nullptr) return Steer::unchanged;
  Provider& p = provider();
  if (!p.enabled()) return Steer::unchanged;
  auto state = p.state_of(fd);
  if (!state) return Steer::unchanged;
  auto destination = from_sockaddr(to, to_length);
  if (!destination) return Steer::unchanged;
  PosixSocketCalls calls(fd);
  const provider::Steered steered = p.steering().steer(*state, *destination, connecting, calls);
  switch (steered.action) {
    case provider::Steered::Action::unchanged: return Steer::unchanged;
    case provider::Steered::Action::refused:
      errno = Provider::kRefusalErrors.of(steered.refusal);
      return Steer::refused;
    case provider::Steered::Action::redirected:
      out_length = to_sockaddr(steered.target, state->family(), out);
      return Steer::redirected;
  }
  return Steer::unchanged;
}

// Writes `address` into a caller's (address, length) pair that held `capacity` bytes
// before the call, as the kernel would have; nothing when the socket's family cannot
// express it.
void report(const net::Endpoint& address, int family, sockaddr* to, socklen_t* to_length, socklen_t capacity) {
  sockaddr_storage storage;
  const socklen_t length = to_sockaddr(address, family, storage);
  if (length == 0) return;
  *to_length = capacity;
  copy_out(storage, length, to, to_length);
}

// A relayed UDP reply comes from the association: the program sees the original
// destination instead. `capacity` is what the program's buffer held before the call.
void restore_source(int fd, sockaddr* from, socklen_t* from_length, socklen_t capacity) {
  if (from == nullptr || from_length == nullptr || *from_length > capacity) return;
  Provider& p = provider();
  if (!p.enabled()) return;
  auto state = p.table().get(fd);
  if (!state || !state->has_relay_routes()) return;
  auto source = from_sockaddr(from, *from_length);
  if (!source) return;
  if (auto original = state->destination_for_relay(*source)) report(*original, state->family(), from, from_length, capacity);
}

void duplicated(int from, int to) {
  if (to < 0 || from == to || !provider().enabled()) return;
  auto previous = provider().table().duplicate(from, to);  // released outside the table lock
}

void closed(int fd) {
  if (!provider().enabled()) return;
  auto previous = provider().table().take(fd);
}

// Every descriptor from low to high (inclusive) is being closed.
void closed_range(unsigned low, unsigned high) {
  if (!provider().enabled()) return;
  std::vector<int> steered;
  try {
    provider().table().for_each([&](int fd, const auto&) {
      if (static_cast<unsigned>(fd) >= low && static_cast<unsigned>(fd) <= high) steered.push_back(fd);
    });
  } catch (...) {
    return;  // out of memory: the states stay until their numbers are reused (socket() forgets them then)
  }
  for (int fd : steered) closed(fd);
}

// The program is closing or replacing low..high: the provider's control connection
// is not used any more if it is among them (see ControlChannel::descriptors_closing).
ControlChannel::Dropped connection_closing(unsigned low, unsigned high) {
  if (!provider().enabled()) return {};
  return provider().channel().descriptors_closing(low, high, provider().client());
}

// A call that would have closed `dropped` failed: it is still open, and the
// provider's to close.
void call_failed(const ControlChannel::Dropped& dropped) {
  const int saved_errno = errno;
  ControlChannel::close_if_unchanged(dropped);
  errno = saved_errno;
}

// Runs exec with the environment plus the relayed sockets' handoff.
template <typename Exec>
int exec_with_handoff(char* const* environment, Exec exec) {
  if (!provider().enabled()) return exec(environment);
  std::vector<std::string> storage;
  try {
    storage = environment_for_exec(environment, provider().table());
  } catch (...) {
    return exec(environment);
  }
  std::vector<char*> pointers;
  pointers.reserve(storage.size() + 1);
  for (auto& s : storage) pointers.push_back(s.data());
  pointers.push_back(nullptr);
  return exec(pointers.data());
}

std::vector<char*> collect_variadic(const char* first, va_list& args) {
  std::vector<char*> argv{const_cast<char*>(first)};
  while (argv.back() != nullptr) argv.push_back(va_arg(args, char*));
  return argv;
}

}  // namespace

}  // namespace sluice::preload

using namespace sluice::preload;

SLUICE_INTERPOSE int socket(int domain, int type, int protocol) {
  const int fd = real().socket(domain, type, protocol);
  if (fd >= 0) closed(fd);  // a number reused behind our back (closed by a path we do not see)
  return fd;
}

SLUICE_INTERPOSE int socketpair(int domain, int type, int protocol, int fds[2]) {
  const int result = real().socketpair(domain, type, protocol, fds);
  if (result == 0) {
    closed(fds[0]);
    closed(fds[1]);
  }
  return result;
}

SLUICE_INTERPOSE int accept(int fd, sockaddr* address, socklen_t* length) {
  const int accepted = real().accept(fd, address, length);
  if (accepted >= 0) closed(accepted);
  return accepted;
}

SLUICE_INTERPOSE int accept4(int fd, sockaddr* address, socklen_t* length, int flags) {
  const int accepted = real().accept4(fd, address, length, flags);
  if (accepted >= 0) closed(accepted);
  return accepted;
}

SLUICE_INTERPOSE int connect(int fd, const sockaddr* address, socklen_t length) {
  if (address != nullptr && address->sa_family == AF_UNSPEC && provider().enabled()) {
    // Dissolving a UDP socket's association: it has no peer to report any more.
    if (auto state = provider().table().get(fd)) state->set_original_peer(std::nullopt);
    return real().connect(fd, address, length);
  }
  sockaddr_storage to;
  socklen_t to_length = 0;
  switch (steer(fd, address, length, /*connecting=*/true, to, to_length)) {
    case Steer::unchanged: return real().connect(fd, address, length);
    case Steer::refused: return -1;
    case Steer::redirected: return real().connect(fd, reinterpret_cast<const sockaddr*>(&to), to_length);
  }
  return -1;
}

SLUICE_INTERPOSE ssize_t sendto(int fd, const void* buffer, size_t size, int flags, const sockaddr* address,
                                socklen_t length) {
  sockaddr_storage to;
  socklen_t to_length = 0;
  // TCP Fast Open connects in sendto: steered like connect.
  const bool fast_open = (flags & MSG_FASTOPEN) != 0;
  switch (steer(fd, address, length, fast_open, to, to_length)) {
    case Steer::unchanged: return real().sendto(fd, buffer, size, flags, address, length);
    case Steer::refused: return -1;
    case Steer::redirected:
      return real().sendto(fd, buffer, size, flags, reinterpret_cast<const sockaddr*>(&to), to_length);
  }
  return -1;
}

SLUICE_INTERPOSE ssize_t sendmsg(int fd, const msghdr* message, int flags) {
  if (message == nullptr) return real().sendmsg(fd, message, flags);
  sockaddr_storage to;
  socklen_t to_length = 0;
  const bool fast_open = (flags & MSG_FASTOPEN) != 0;
  switch (steer(fd, static_cast<const sockaddr*>(message->msg_name), message->msg_namelen, fast_open, to, to_length)) {
    case Steer::unchanged: return real().sendmsg(fd, message, flags);
    case Steer::refused: return -1;
    case Steer::redirected: {
      msghdr copy = *message;
      copy.msg_name = &to;
      copy.msg_namelen = to_length;
      return real().sendmsg(fd, &copy, flags);
    }
  }
  return -1;
}

SLUICE_INTERPOSE int sendmmsg(int fd, mmsghdr* messages, unsigned count, int flags) {
  if (messages == nullptr || count == 0) return real().sendmmsg(fd, messages, count, flags);
  // Messages up to the first refused one go out; a refused first message fails the call.
  std::vector<mmsghdr> copies;
  std::vector<sockaddr_storage> addresses;
  unsigned sendable = count;
  for (unsigned i = 0; i < count; ++i) {
    sockaddr_storage to;
    socklen_t to_length = 0;
    const msghdr& m = messages[i].msg_hdr;
    const Steer s = steer(fd, static_cast<const sockaddr*>(m.msg_name), m.msg_namelen, false, to, to_length);
    if (s == Steer::refused) {
      if (i == 0) return -1;
      sendable = i;
      break;
    }
    if (s == Steer::redirected) {
      if (copies.empty()) {
        copies.assign(messages, messages + count);
        addresses.resize(count);
      }
      addresses[i] = to;
      copies[i].msg_hdr.msg_name = &addresses[i];
      copies[i].msg_hdr.msg_namelen = to_length;
    }
  }
  if (copies.empty()) return real().sendmmsg(fd, messages, sendable, flags);
  const int sent = real().sendmmsg(fd, copies.data(), sendable, flags);
  for (int i = 0; i < sent; ++i) messages[i].msg_len = copies[static_cast<std::size_t>(i)].msg_len;
  return sent;
}

SLUICE_INTERPOSE ssize_t recvfrom(int fd, void* buffer, size_t size, int flags, sockaddr* address, socklen_t* length) {
  const socklen_t capacity = length ? *length : 0;
  const ssize_t received = real().recvfrom(fd, buffer, size, flags, address, length);
  if (received >= 0) restore_source(fd, address, length, capacity);
  return received;
}

SLUICE_INTERPOSE ssize_t recvmsg(int fd, msghdr* message, int flags) {
  const socklen_t capacity = message ? message->msg_namelen : 0;
  const ssize_t received = real().recvmsg(fd, message, flags);
  if (received >= 0 && message != nullptr) {
    restore_source(fd, static_cast<sockaddr*>(message->msg_name), &message->msg_namelen, capacity);
  }
  return received;
}

SLUICE_INTERPOSE int recvmmsg(int fd, mmsghdr* messages, unsigned count, int flags, struct timespec* timeout) {
  std::vector<socklen_t> capacities;
  if (messages != nullptr) {
    capacities.reserve(count);
    for (unsigned i = 0; i < count; ++i) capacities.push_back(messages[i].msg_hdr.msg_namelen);
  }
  const int received = real().recvmmsg(fd, messages, count, flags, timeout);
  for (int i = 0; i < received; ++i) {
    msghdr& m = messages[i].msg_hdr;
    restore_source(fd, static_cast<sockaddr*>(m.msg_name), &m.msg_namelen, capacities[static_cast<std::size_t>(i)]);
  }
  return received;
}

SLUICE_INTERPOSE int getpeername(int fd, sockaddr* address, socklen_t* length) {
  const socklen_t capacity = length ? *length : 0;
  const int result = real().getpeername(fd, address, length);
  if (result != 0 || !provider().enabled()) return result;
  auto state = provider().table().get(fd);
  if (!state) return result;
  if (auto original = state->original_peer()) report(*original, state->family(), address, length, capacity);
  return result;
}

SLUICE_INTERPOSE int close(int fd) {
  closed(fd);
  // Linux releases the number whatever close returns (EINTR included).
  if (fd >= 0) (void)connection_closing(static_cast<unsigned>(fd), static_cast<unsigned>(fd));
  return real().close(fd);
}

SLUICE_INTERPOSE int close_range(unsigned low, unsigned high, int flags) {
  // With CLOSE_RANGE_CLOEXEC nothing is closed now, and the connection is close-on-exec already.
  const bool closes = (flags & CLOSE_RANGE_CLOEXEC) == 0;
  const ControlChannel::Dropped dropped = closes ? connection_closing(low, high) : ControlChannel::Dropped{};
  const int result = real().close_range(low, high, flags);
  if (result != 0) call_failed(dropped);
  if (result == 0 && closes) closed_range(low, high);
  return result;
}

SLUICE_INTERPOSE void closefrom(int low) {
  const unsigned from = low < 0 ? 0U : static_cast<unsigned>(low);
  (void)connection_closing(from, ~0U);
  real().closefrom(low);
  closed_range(from, ~0U);
}

SLUICE_INTERPOSE int dup(int fd) {
  const int copy = real().dup(fd);
  duplicated(fd, copy);
  return copy;
}

namespace {

// dup2 and dup3 close `target` first when it is open: it may be the connection's number.
ControlChannel::Dropped target_closing(int fd, int target) {
  if (target < 0 || target == fd) return {};  // dup2(fd, fd) changes nothing; dup3 refuses it
  return connection_closing(static_cast<unsigned>(target), static_cast<unsigned>(target));
}

}  // namespace

SLUICE_INTERPOSE int dup2(int fd, int target) {
  const ControlChannel::Dropped dropped = target_closing(fd, target);
  const int copy = real().dup2(fd, target);
  if (copy < 0) call_failed(dropped);
  duplicated(fd, copy);
  return copy;
}

SLUICE_INTERPOSE int dup3(int fd, int target, int flags) {
  const ControlChannel::Dropped dropped = target_closing(fd, target);
  const int copy = real().dup3(fd, target, flags);
  if (copy < 0) call_failed(dropped);
  duplicated(fd, copy);
  return copy;
}

namespace {

// fcntl's third argument is an int or a pointer; passed on as a pointer-sized value,
// which the calling convention carries the same way for both.
int fcntl_common(int (*real_fcntl)(int, int, ...), int fd, int command, void* argument) {
  const int result = real_fcntl(fd, command, argument);
  if ((command == F_DUPFD || command == F_DUPFD_CLOEXEC) && result >= 0) duplicated(fd, result);
  return result;
}

}  // namespace

SLUICE_INTERPOSE int fcntl(int fd, int command, ...) {
  va_list args;
  va_start(args, command);
  void* argument = va_arg(args, void*);
  va_end(args);
  return fcntl_common(real().fcntl, fd, command, argument);
}

SLUICE_INTERPOSE int fcntl64(int fd, int command, ...) {
  va_list args;
  va_start(args, command);
  void* argument = va_arg(args, void*);
  va_end(args);
  return fcntl_common(real().fcntl64, fd, command, argument);
}

SLUICE_INTERPOSE int execve(const char* path, char* const argv[], char* const envp[]) {
  return exec_with_handoff(envp, [&](char* const* env) { return real().execve(path, argv, env); });
}

SLUICE_INTERPOSE int execvpe(const char* file, char* const argv[], char* const envp[]) {
  return exec_with_handoff(envp, [&](char* const* env) { return real().execvpe(file, argv, env); });
}

SLUICE_INTERPOSE int fexecve(int fd, char* const argv[], char* const envp[]) {
  return exec_with_handoff(envp, [&](char* const* env) { return real().fexecve(fd, argv, env); });
}

SLUICE_INTERPOSE int execv(const char* path, char* const argv[]) { return execve(path, argv, environ); }

SLUICE_INTERPOSE int execvp(const char* file, char* const argv[]) { return execvpe(file, argv, environ); }

SLUICE_INTERPOSE int execl(const char* path, const char* arg, ...) {
  va_list args;
  va_start(args, arg);
  auto argv = collect_variadic(arg, args);
  va_end(args);
  return execve(path, argv.data(), environ);
}

SLUICE_INTERPOSE int execlp(const char* file, const char* arg, ...) {
  va_list args;
  va_start(args, arg);
  auto argv = collect_variadic(arg, args);
  va_end(args);
  return execvpe(file, argv.data(), environ);
}

SLUICE_INTERPOSE int execle(const char* path, const char* arg, ...) {
  va_list args;
  va_start(args, arg);
  auto argv = collect_variadic(arg, args);
  char* const* envp = va_arg(args, char* const*);
  va_end(args);
  return execve(path, argv.data(), envp);
}

// Makes the provider ready before main: configuration read, fork handlers in place,
// sockets handed over by an exec taken back.
__attribute__((constructor)) static void sluice_preload_start() { (void)provider(); }
