#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>

#include "control/protocol/frame.h"
#include "control/protocol/jsonrpc.h"
#include "control/transport/transport.h"

namespace sluice::transport {

// A connection to sluiced that speaks JSON-RPC over frames. The constructor
// connects and checks the protocol version (sluice.hello), so a client never
// talks past an incompatible service.
class RpcClient {
 public:
  RpcClient(std::string endpoint, std::chrono::milliseconds timeout, std::string client_name);

  // Calls a method and returns its result; throws protocol::RpcError for an error
  // response and TransportError when the service cannot be reached or goes away.
  protocol::json call(const std::string& method, protocol::json params = protocol::json::object());

  const std::string& endpoint() const { return endpoint_; }
  // What sluice.hello returned: the service's name, version and protocol.
  const protocol::json& hello() const { return hello_; }

 private:
  std::string endpoint_;
  std::chrono::milliseconds timeout_;
  std::unique_ptr<Connection> connection_;
  protocol::FrameDecoder decoder_;
  std::int64_t next_id_ = 1;
  protocol::json hello_;
};

}  // namespace sluice::transport
