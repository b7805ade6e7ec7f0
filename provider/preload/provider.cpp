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

using Clock = std::chrono::steady_clock;
// How long a fail-mode verdict stands before the service is asked again.
constexpr auto kRetryAfterSilence = std::chrono::seconds(5);

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

}  // namespace

Provider::Provider(ProviderConfig config)
    : config_(std::move(config)),
      fail_mode_(config_.fail_mode),
      timeout_ms_(static_cast<int>(config_.timeout.count())),
      client_(config_.control) {}

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

int Provider::refusal_errno(const SocketState& state) { return state.udp() ? EACCES : ECONNREFUSED; }

Route Provider::fail_mode_route(const NetAddress& destination) const {
  Route route;
  route.destination = destination;
  route.kind = fail_mode_.load() == provider::FailMode::open ? RouteKind::direct : RouteKind::block;
  route.retry_after = Clock::now() + kRetryAfterSilence;
  return route;
}

std::optional<provider::RegisterAnswer> Provider::ask(const SocketState& state, int fd, const NetAddress& destination) {
  // The service learns the socket's port from the registration and recognises the
  // relayed connection or datagrams by it: an unbound socket is bound now, to the
  // wildcard address with a port of the kernel's choosing, as connect or sendto would.
  auto local_address = [fd]() -> std::optional<NetAddress> {
    sockaddr_storage local{};
    socklen_t length = sizeof local;
    if (::getsockname(fd, reinterpret_cast<sockaddr*>(&local), &length) != 0) return std::nullopt;
    return from_sockaddr(reinterpret_cast<const sockaddr*>(&local), length);
  };
  auto bound = local_address();
  if (bound && bound->port == 0) {
    sockaddr_storage wildcard{};
    NetAddress any;
    any.ipv4 = state.family() == AF_INET;
    const socklen_t n = to_sockaddr(any, state.family(), wildcard);  // 0.0.0.0 or ::
    if (::bind(fd, reinterpret_cast<const sockaddr*>(&wildcard), n) != 0) return std::nullopt;
    bound = local_address();
  }
  if (!bound) return std::nullopt;

  provider::RegisterRequest request;
  request.udp = state.udp();
  request.destination = ip_text(destination);
  request.port = destination.port;
  request.local = ip_text(*bound);
  request.local_port = bound->port;
  auto answer = client_.register_flow(request, std::chrono::milliseconds(timeout_ms_.load()));
  if (answer) {
    fail_mode_.store(answer->fail_mode);
    timeout_ms_.store(static_cast<int>(answer->timeout_ms));
  }
  return answer;
}

Route Provider::route_to(int fd, SocketState& state, const NetAddress& destination) {
  if (auto cached = state.find(destination); cached && (!cached->retry_after || Clock::now() < *cached->retry_after)) {
    return *cached;
  }
  const int saved_errno = errno;
  auto answer = ask(state, fd, destination);
  errno = saved_errno;
  if (!answer) return state.remember(fail_mode_route(destination));

  auto routed = provider::route_from_answer(*answer, destination, state.family(), state.udp());
  if (!routed) return state.remember(fail_mode_route(destination));
  const Route& route = *routed;
  const Route kept = state.remember(route);
  // Another thread of the program registered the same destination first: ours goes.
  if (route.flow_id != 0 && kept.flow_id != route.flow_id) client_.release(route.flow_id);
  return kept;
}

}  // namespace sluice::preload
