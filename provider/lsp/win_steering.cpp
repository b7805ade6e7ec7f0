#include "provider/lsp/win_steering.h"

#include <cctype>
#include <string>

#include "common/platform/platform.h"
#include "provider/lsp/lower_provider.h"

namespace sluice::lsp {

namespace {

bool is_pipe_name(std::string_view name) {
  constexpr std::string_view prefix = "\\\\.\\pipe\\";
  if (name.size() <= prefix.size()) return false;
  for (std::size_t i = 0; i < prefix.size(); ++i) {
    if (std::tolower(static_cast<unsigned char>(name[i])) != prefix[i]) return false;
  }
  return true;
}

// The socket's own calls, on the lower provider's socket.
class LowerSocketCalls final : public provider::SocketCalls {
 public:
  explicit LowerSocketCalls(const LspSocket& socket) : socket_(socket) {}
  int get_local_address(sockaddr_storage& address, int& length) override {
    int error = 0;
    return socket_.provider->calls.lpWSPGetSockName(socket_.lower, reinterpret_cast<sockaddr*>(&address), &length, &error);
  }
  int bind(const sockaddr* address, int length) override {
    int error = 0;
    return socket_.provider->calls.lpWSPBind(socket_.lower, address, length, &error);
  }

 private:
  const LspSocket& socket_;
};

}  // namespace

provider::ProviderConfig load_lsp_config() {
  const provider::EndpointRule rule{platform::default_control_endpoint(), is_pipe_name, "a \\\\.\\pipe\\ name"};
  provider::ProviderConfig config = provider::default_config(rule);
  provider::apply_environment([](const char* name) -> std::optional<std::string> {
    std::string value = platform::environment(name);
    return value.empty() ? std::nullopt : std::optional<std::string>(std::move(value));
  }, rule, config);
  return config;
}

Steering::Steering(const provider::ProviderConfig& config)
    : channel_(config.control), client_(channel_, errors_), core_(client_, errors_, config.fail_mode, config.timeout) {}

int Steering::redirect(LspSocket& socket, const net::Endpoint& destination, bool connecting,
                       sockaddr_storage& storage, const sockaddr*& target, int& length) {
  LowerSocketCalls calls(socket);
  const provider::Steered steered = core_.steer(*socket.state, destination, connecting, calls);
  switch (steered.action) {
    case provider::Steered::Action::unchanged: return 0;
    case provider::Steered::Action::refused: return kRefusalErrors.of(steered.refusal);
    case provider::Steered::Action::redirected:
      length = static_cast<int>(net::to_sockaddr(steered.target, socket.family, storage));
      target = reinterpret_cast<const sockaddr*>(&storage);
      return 0;
  }
  return 0;
}

}  // namespace sluice::lsp
