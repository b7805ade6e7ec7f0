#include "provider/preload/provider.h"

#include <pthread.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>

#include "provider/preload/exec_handoff.h"
#include "provider/preload/real_calls.h"

namespace sluice::preload {

namespace {

std::string own_executable() {
  char path[4096];
  const ssize_t n = ::readlink("/proc/self/exe", path, sizeof path - 1);
  return n > 0 ? std::string(path, static_cast<std::size_t>(n)) : std::string();
}

ProviderConfig load_config() {
  ProviderConfig config = load_provider_config();
  // The service's own sockets are never steered, even under /etc/ld.so.preload.
  if (is_service_program(own_executable())) config.disabled = true;
  return config;
}

// One shared state for every descriptor the provider has nothing to do with (Unix
// sockets, raw sockets, files): no allocation, and a single lookup says so.
const std::shared_ptr<SocketState>& not_steered() {
  static const auto state = new std::shared_ptr<SocketState>(std::make_shared<SocketState>(0, false, false));
  return *state;
}

void release_flow(std::uint64_t flow_id) { provider().client().release(flow_id); }

// The socket's bound address. The service recognises the relayed connection or
// datagrams by its port: an unbound socket is bound now, to the wildcard address
// with a port of the kernel's choosing, as connect or sendto would. nullopt when
// that fails.
std::optional<net::Endpoint> bound_address(int fd, const SocketState& state) {
  auto local_address = [fd]() -> std::optional<net::Endpoint> {
    sockaddr_storage local{};
    socklen_t length = sizeof local;
    if (::getsockname(fd, reinterpret_cast<sockaddr*>(&local), &length) != 0) return std::nullopt;
    return from_sockaddr(reinterpret_cast<const sockaddr*>(&local), length);
  };
  auto bound = local_address();
  if (bound && bound->port == 0) {
    sockaddr_storage wildcard{};
    const net::Endpoint any{state.family() == AF_INET ? net::ipv4(0, 0, 0, 0) : net::IpAddress{}, 0};
    const socklen_t n = to_sockaddr(any, state.family(), wildcard);  // 0.0.0.0 or ::
    if (::bind(fd, reinterpret_cast<const sockaddr*>(&wildcard), n) != 0) return std::nullopt;
    bound = local_address();
  }
  return bound;
}

}  // namespace

Provider::Provider(ProviderConfig config)
    : config_(std::move(config)), client_(config_.control), router_(client_, config_.fail_mode, config_.timeout) {}

Provider& provider() {
  // Created once and never destroyed: programs call us from their own destructors.
  static Provider* const instance = [] {
    auto* p = new Provider(load_config());
    if (p->enabled()) {
      SocketState::set_release(&release_flow);
      ::pthread_atfork([] { provider().client().before_fork(); provider().table().lock_all(); },
                       [] { provider().table().unlock_all(); provider().client().after_fork_in_parent(); },
                       [] { provider().table().unlock_all(); provider().client().after_fork_in_child(); });
      if (const char* handoff = std::getenv(kHandoffVariable)) {
        restore_handoff(handoff, p->table());
        ::unsetenv(kHandoffVariable);
      }
    }
    return p;
  }();
  return *instance;
}

std::shared_ptr<SocketState> Provider::state_of(int fd) {
  if (auto state = table_.get(fd)) return state;
  if (fd < 0 || fd >= SocketTable::kMaxDescriptors) return nullptr;
  const int saved_errno = errno;
  int domain = 0, type = 0, protocol = 0;
  socklen_t length = sizeof(int);
  std::shared_ptr<SocketState> state = not_steered();
  if (::getsockopt(fd, SOL_SOCKET, SO_DOMAIN, &domain, &length) == 0 && (domain == AF_INET || domain == AF_INET6) &&
      ::getsockopt(fd, SOL_SOCKET, SO_TYPE, &type, &length) == 0 &&
      ::getsockopt(fd, SOL_SOCKET, SO_PROTOCOL, &protocol, &length) == 0) {
    if (type == SOCK_STREAM && protocol == IPPROTO_TCP) state = std::make_shared<SocketState>(domain, true, false);
    if (type == SOCK_DGRAM && protocol == IPPROTO_UDP) state = std::make_shared<SocketState>(domain, true, true);
  }
  errno = saved_errno;
  table_.set(fd, state);
  return state;
}

bool Provider::association_lost(SocketState& state, const Route& route) {
  if (!state.udp() || route.kind != RouteKind::relay || route.service_instance == 0) return false;
  if (client_.current_service() == route.service_instance) return false;
  state.forget(route);
  return true;
}

int Provider::refusal_errno(const SocketState& state) { return state.udp() ? EACCES : ECONNREFUSED; }

Route Provider::route_to(int fd, SocketState& state, const net::Endpoint& destination) {
  if (auto route = provider::FlowRouter::cached(state, destination)) return *route;
  const int saved_errno = errno;  // the program sees only its own call's errno
  const Route route = router_.decide(state, destination, bound_address(fd, state));
  errno = saved_errno;
  return route;
}

}  // namespace sluice::preload
