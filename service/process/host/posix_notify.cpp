// sd_notify without libsystemd: the protocol is one datagram to an AF_UNIX socket,
// small enough to own, and it keeps a library (and its dependencies) out of a
// service that runs as root.

#include "service/process/host/posix_notify.h"

#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <cstddef>
#include <cstdlib>
#include <cstring>
#include <iostream>

#include "service/process/host/host.h"

namespace sluice::service {

bool send_notify_message(std::string_view socket_name, std::string_view state, std::string* error) {
  auto failed = [error](std::string why) {
    if (error) *error = std::move(why);
    return false;
  };
  sockaddr_un address{};
  address.sun_family = AF_UNIX;
  // A path is sent with its terminating NUL, which must fit; an abstract name is
  // exactly its bytes after the leading NUL that replaces '@'.
  const bool abstract = !socket_name.empty() && socket_name.front() == '@';
  if (socket_name.size() < 2 || (socket_name.front() != '/' && !abstract)) {
    return failed("NOTIFY_SOCKET '" + std::string(socket_name) + "' is neither an absolute path nor an @abstract name");
  }
  if (socket_name.size() + (abstract ? 0 : 1) > sizeof address.sun_path) {
    return failed("NOTIFY_SOCKET '" + std::string(socket_name) + "' is longer than a socket address may be");
  }
  std::memcpy(address.sun_path, socket_name.data(), socket_name.size());
  if (abstract) address.sun_path[0] = '\0';
  const auto length =
      static_cast<socklen_t>(offsetof(sockaddr_un, sun_path) + socket_name.size() + (abstract ? 0 : 1));

  const int fd = ::socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return failed(std::string("socket: ") + std::strerror(errno));
  ssize_t sent;
  do sent = ::sendto(fd, state.data(), state.size(), MSG_NOSIGNAL, reinterpret_cast<sockaddr*>(&address), length);
  while (sent < 0 && errno == EINTR);
  const int err = errno;
  ::close(fd);
  if (sent < 0) return failed("cannot send to NOTIFY_SOCKET '" + std::string(socket_name) + "': " + std::strerror(err));
  if (static_cast<std::size_t>(sent) != state.size()) return failed("short send to NOTIFY_SOCKET");
  return true;
}

void notify_service_manager(std::string_view state) {
  // Not started by a service manager that asked to be told: nothing to do.
  const char* socket_name = std::getenv("NOTIFY_SOCKET");
  if (!socket_name || !*socket_name) return;
  // A lost notification cannot be repaired from here (systemd's start and stop
  // timeouts catch it); saying so on stderr puts the reason in the journal.
  std::string error;
  if (!send_notify_message(socket_name, state, &error)) std::cerr << "sluiced: " << error << "\n";
}

}  // namespace sluice::service
