#pragma once

// Verdicts for the LSP's sockets, decided by provider::FlowRouter as the Linux
// provider's are: once per socket and destination, the fail mode when the service
// cannot be asked. Settings come from the
// environment (the service's answers then carry the administrator's fail mode and
// timeout, which win):
//
//   SLUICE_CONTROL              control pipe      (default \\.\pipe\sluice)
//   SLUICE_FAIL_MODE            open | closed
//   SLUICE_PROVIDER_TIMEOUT_MS  1-60000           (default 250)
//   SLUICE_PROVIDER_DISABLE=1   leave this process alone

#include <chrono>
#include <optional>
#include <string>

#include "provider/client/flow_router.h"
#include "net/socket_address.h"
#include "provider/client/socket_state.h"
#include "provider/lsp/lsp_socket.h"
#include "provider/lsp/service_client.h"

namespace sluice::lsp {

struct LspConfig {
  bool disabled = false;
  std::string control;
  provider::FailMode fail_mode = provider::FailMode::open;
  std::chrono::milliseconds timeout{250};
};

// Defaults, then this process's environment; values that make no sense are ignored.
LspConfig load_lsp_config();

// True when this process is sluiced itself: its sockets are never steered.
bool is_service_process();

class Steering {
 public:
  explicit Steering(const LspConfig& config);

  // Where a flow of `socket` to `destination` goes: 0 with `target`/`length` left
  // alone (direct) or pointed at the relay, written into `storage` (then *relayed
  // is set); otherwise the error that refuses it, with nothing to send.
  int redirect(LspSocket& socket, const net::Endpoint& destination, sockaddr_storage& storage,
               const sockaddr*& target, int& length, bool* relayed = nullptr);

  void release(std::uint64_t flow_id) { client_.release(flow_id); }

  // How a blocked destination fails: as a refused connection for TCP, as a
  // forbidden destination (WSAEACCES) for datagrams.
  static int refusal_error(const LspSocket& socket) { return socket.stream() ? WSAECONNREFUSED : WSAEACCES; }

 private:
  // The route for a flow of `socket` to `destination`.
  provider::Route route_to(LspSocket& socket, const net::Endpoint& destination);

  ServiceClient client_;
  provider::FlowRouter router_;  // after client_, which it uses
};

}  // namespace sluice::lsp
