#pragma once

// The LSP's side of the steering core (provider/core/steering.h): its settings, its
// system calls (the lower provider's WSPBind and WSPGetSockName, WSAGetLastError),
// its channel (the control pipe) and the Winsock errors a refusal fails with.
// Settings come from the environment (provider/core/provider_config.h), the service's
// answers then carry the administrator's fail mode and timeout, which win:
//
//   SLUICE_CONTROL              control pipe, \\.\pipe\...  (default \\.\pipe\sluice)
//   SLUICE_FAIL_MODE            open | closed
//   SLUICE_PROVIDER_TIMEOUT_MS  1-60000           (default 250)
//   SLUICE_PROVIDER_DISABLE=1   leave this process alone

#include <winsock2.h>

#include <cstdint>

#include "net/socket_address.h"
#include "provider/core/provider_config.h"
#include "provider/core/service_client.h"
#include "provider/core/steering.h"
#include "provider/core/system_calls.h"
#include "provider/lsp/lsp_socket.h"
#include "provider/lsp/pipe_channel.h"

namespace sluice::lsp {

// Defaults, then this process's environment; values that make no sense are ignored.
provider::ProviderConfig load_lsp_config();

class WinsockError final : public provider::ErrorCode {
 public:
  int get() const override { return WSAGetLastError(); }
  void set(int code) override { WSASetLastError(code); }
};

class Steering {
 public:
  explicit Steering(const provider::ProviderConfig& config);

  // Where a connect (`connecting`) or datagram of `socket` to `destination` goes: 0
  // with `target`/`length` left alone (direct) or pointed at the relay, written into
  // `storage`; otherwise the error that refuses it, with nothing to send.
  int redirect(LspSocket& socket, const net::Endpoint& destination, bool connecting, sockaddr_storage& storage,
               const sockaddr*& target, int& length);

  void release(std::uint64_t flow_id) { core_.release(flow_id); }

  // The Winsock error of a refusal: a refused connection for TCP, a forbidden
  // destination for datagrams (as for a broadcast without SO_BROADCAST), and for a
  // lost association what Winsock says of a datagram that met a closed port.
  // ("On a UDP-datagram socket this error indicates a previous send operation
  // resulted in an ICMP Port Unreachable message", Windows Sockets Error Codes.)
  static constexpr provider::RefusalErrors kRefusalErrors{WSAECONNREFUSED, WSAEACCES, WSAECONNRESET};

 private:
  WinsockError errors_;
  PipeChannel channel_;
  provider::ServiceClient client_;  // after errors_ and channel_, which it uses
  provider::Steering core_;         // after client_
};

}  // namespace sluice::lsp
