#include "provider/lsp/steering.h"

#include <cctype>
#include <charconv>

#include "common/platform/platform.h"
#include "provider/lsp/lower_provider.h"

namespace sluice::lsp {

namespace {

std::string lower_case(std::string text) {
  for (char& c : text) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return text;
}

// The socket's bound address. The service recognises the relayed connection or
// datagrams by its port: an unbound socket is bound now, to the wildcard address
// with a port of the system's choosing, as connect or sendto would. nullopt when
// that fails.
std::optional<net::Endpoint> bound_address(const LspSocket& socket) {
  const auto& calls = socket.provider->calls;
  auto local_address = [&]() -> std::optional<net::Endpoint> {
    sockaddr_storage local{};
    int length = sizeof local;
    int error = 0;
    if (calls.lpWSPGetSockName(socket.lower, reinterpret_cast<sockaddr*>(&local), &length, &error) != 0) return std::nullopt;
    return net::from_sockaddr(reinterpret_cast<const sockaddr*>(&local), length);
  };
  auto bound = local_address();
  if (!bound || bound->port == 0) {  // Winsock: getsockname fails on an unbound socket
    const net::Endpoint any{socket.family == AF_INET ? net::ipv4(0, 0, 0, 0) : net::IpAddress{}, 0};
    sockaddr_storage wildcard{};
    const int length = net::to_sockaddr(any, socket.family, wildcard);
    int error = 0;
    if (calls.lpWSPBind(socket.lower, reinterpret_cast<const sockaddr*>(&wildcard), length, &error) != 0) return std::nullopt;
    bound = local_address();
  }
  return bound;
}

}  // namespace

LspConfig load_lsp_config() {
  LspConfig config;
  config.control = platform::default_control_endpoint();
  const std::string disable = platform::environment("SLUICE_PROVIDER_DISABLE");
  config.disabled = !disable.empty() && disable != "0";
  if (auto control = platform::environment("SLUICE_CONTROL"); lower_case(control).rfind("\\\\.\\pipe\\", 0) == 0) {
    config.control = control;
  }
  if (auto mode = provider::parse_fail_mode(platform::environment("SLUICE_FAIL_MODE"))) config.fail_mode = *mode;
  const std::string timeout = platform::environment("SLUICE_PROVIDER_TIMEOUT_MS");
  unsigned ms = 0;
  auto [end, error] = std::from_chars(timeout.data(), timeout.data() + timeout.size(), ms);
  if (!timeout.empty() && error == std::errc() && end == timeout.data() + timeout.size() && ms >= 1 && ms <= 60'000) {
    config.timeout = std::chrono::milliseconds(ms);
  }
  return config;
}

bool is_service_process() {
  std::string path = lower_case(platform::current_executable());
  const auto slash = path.find_last_of("\\/");
  return path.substr(slash == std::string::npos ? 0 : slash + 1) == "sluiced.exe";
}

Steering::Steering(const LspConfig& config)
    : client_(config.control), router_(client_, config.fail_mode, config.timeout) {}

provider::Route Steering::route_to(LspSocket& socket, const net::Endpoint& destination) {
  if (auto route = provider::FlowRouter::cached(*socket.state, destination)) return *route;
  const int saved_error = WSAGetLastError();  // the program sees only its own call's error
  const provider::Route route = router_.decide(*socket.state, destination, bound_address(socket));
  WSASetLastError(saved_error);
  return route;
}

int Steering::redirect(LspSocket& socket, const net::Endpoint& destination, sockaddr_storage& storage,
                       const sockaddr*& target, int& length, bool* relayed) {
  const provider::Route route = route_to(socket, destination);
  switch (route.kind) {
    case provider::RouteKind::direct: return 0;
    case provider::RouteKind::block: return refusal_error(socket);
    case provider::RouteKind::relay:
      length = net::to_sockaddr(route.relay, socket.family, storage);
      target = reinterpret_cast<const sockaddr*>(&storage);
      if (relayed != nullptr) *relayed = true;
      return 0;
  }
  return 0;
}

}  // namespace sluice::lsp
