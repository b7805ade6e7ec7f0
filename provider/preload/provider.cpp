#include "provider/preload/provider.h"

#include <pthread.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>

#include "provider/preload/exec_handoff.h"
#include "provider/preload/posix_provider_settings.h"
#include "provider/preload/real_calls.h"

namespace sluice::preload {

namespace {

std::string own_executable() {
  char path[4096];
  const ssize_t n = ::readlink("/proc/self/exe", path, sizeof path - 1);
  return n > 0 ? std::string(path, static_cast<std::size_t>(n)) : std::string();
}

provider::ProviderConfig load_config() {
  provider::ProviderConfig config = load_provider_config();
  // The service's own sockets are never steered, even under /etc/ld.so.preload.
  if (provider::is_service_program(own_executable())) config.disabled = true;
  return config;
}

// One shared state for every descriptor the provider has nothing to do with (Unix
// sockets, raw sockets, files): no allocation, and a single lookup says so.
const std::shared_ptr<SocketState>& not_steered() {
  static const auto state = new std::shared_ptr<SocketState>(std::make_shared<SocketState>(0, false, false));
  return *state;
}

void release_flow(std::uint64_t flow_id) { provider().steering().release(flow_id); }

}  // namespace

Provider::Provider(provider::ProviderConfig config)
    : config_(std::move(config)),
      channel_(config_.control),
      client_(channel_, errno_),
      steering_(client_, errno_, config_.fail_mode, config_.timeout) {}

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

}  // namespace sluice::preload
