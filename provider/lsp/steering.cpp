#include "provider/lsp/steering.h"

#include <cctype>
#include <charconv>

#include "common/platform/platform.h"
#include "provider/lsp/lower_provider.h"

namespace sluice::lsp {

namespace {

using Clock = std::chrono::steady_clock;

// How long a fail-mode verdict stands before the service is asked again.
constexpr auto kRetryAfterSilence = std::chrono::seconds(5);

std::string lower_case(std::string text) {
  for (char& c : text) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return text;
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
    : client_(config.control), fail_mode_(config.fail_mode), timeout_ms_(static_cast<int>(config.timeout.count())) {}

provider::Route Steering::fail_mode_route(const provider::NetAddress& destination) const {
  provider::Route route;
  route.destination = destination;
  route.kind = fail_mode_.load() == provider::FailMode::open ? provider::RouteKind::direct : provider::RouteKind::block;
  route.retry_after = Clock::now() + kRetryAfterSilence;
  return route;
}

std::optional<provider::RegisterAnswer> Steering::ask(LspSocket& socket, const provider::NetAddress& destination) {
  // The service recognises the relayed connection or datagrams by the socket's
  // port: an unbound socket is bound now, to the wildcard address with a port of
  // the system's choosing, as connect or sendto would.
  const auto& calls = socket.provider->calls;
  auto local_address = [&]() -> std::optional<provider::NetAddress> {
    sockaddr_storage local{};
    int length = sizeof local;
    int error = 0;
    if (calls.lpWSPGetSockName(socket.lower, reinterpret_cast<sockaddr*>(&local), &length, &error) != 0) return std::nullopt;
    return provider::from_sockaddr(reinterpret_cast<const sockaddr*>(&local), length);
  };
  auto bound = local_address();
  if (!bound || bound->port == 0) {
    provider::NetAddress any;
    any.ipv4 = socket.family == AF_INET;
    sockaddr_storage wildcard{};
    const int length = provider::to_sockaddr(any, socket.family, wildcard);
    int error = 0;
    if (calls.lpWSPBind(socket.lower, reinterpret_cast<const sockaddr*>(&wildcard), length, &error) != 0) return std::nullopt;
    bound = local_address();
  }
  if (!bound) return std::nullopt;

  provider::RegisterRequest request;
  request.udp = !socket.stream();
  request.destination = provider::ip_text(destination);
  request.port = destination.port;
  request.local = provider::ip_text(*bound);
  request.local_port = bound->port;
  auto answer = client_.register_flow(request, std::chrono::milliseconds(timeout_ms_.load()));
  if (answer) {
    fail_mode_.store(answer->fail_mode);
    timeout_ms_.store(static_cast<int>(answer->timeout_ms));
  }
  return answer;
}

provider::Route Steering::route_to(LspSocket& socket, const provider::NetAddress& destination) {
  auto& state = *socket.state;
  if (auto cached = state.find(destination); cached && (!cached->retry_after || Clock::now() < *cached->retry_after)) {
    return *cached;
  }
  const int saved_error = WSAGetLastError();  // the program sees only its own call's error
  auto answer = ask(socket, destination);
  WSASetLastError(saved_error);
  if (!answer) return state.remember(fail_mode_route(destination));

  auto routed = provider::route_from_answer(*answer, destination, socket.family, !socket.stream());
  if (!routed) return state.remember(fail_mode_route(destination));
  const provider::Route& route = *routed;
  const provider::Route kept = state.remember(route);
  // Another thread of the program registered the same destination first: ours goes.
  if (route.flow_id != 0 && kept.flow_id != route.flow_id) client_.release(route.flow_id);
  return kept;
}

int Steering::redirect(LspSocket& socket, const provider::NetAddress& destination, sockaddr_storage& storage,
                       const sockaddr*& target, int& length, bool* relayed) {
  const provider::Route route = route_to(socket, destination);
  switch (route.kind) {
    case provider::RouteKind::direct: return 0;
    case provider::RouteKind::block: return refusal_error(socket);
    case provider::RouteKind::relay:
      length = provider::to_sockaddr(route.relay, socket.family, storage);
      target = reinterpret_cast<const sockaddr*>(&storage);
      if (relayed != nullptr) *relayed = true;
      return 0;
  }
  return 0;
}

}  // namespace sluice::lsp
