#include "control/transport/rpc_client.h"

#include "common/version.h"
#include "control/transport/framing.h"

namespace sluice::transport {

using protocol::json;

RpcClient::RpcClient(std::string endpoint, std::chrono::milliseconds timeout, std::string client_name)
    : endpoint_(std::move(endpoint)), timeout_(timeout), connection_(connect(endpoint_, timeout)) {
  hello_ = call("sluice.hello", json{{"protocol", {{"major", kProtocolMajor}, {"minor", kProtocolMinor}}},
                                     {"client", std::move(client_name)}});
}

json RpcClient::call(const std::string& method, json params) {
  const std::int64_t id = next_id_++;
  try {
    write_frame(*connection_, protocol::make_request(id, method, std::move(params)).dump(), timeout_);
  } catch (const TransportError&) {
    // A service that turns a client away ("server busy") answers without reading
    // and hangs up, so the request can fail to send with the answer already here:
    // read it, so the caller learns why rather than "broken pipe".
    std::optional<std::string> refusal;
    try {
      refusal = read_frame(*connection_, decoder_, timeout_);
    } catch (const TransportError&) {
    }
    if (!refusal) throw;
    json response = protocol::parse_bounded(*refusal);
    if (!response.is_object() || !response.contains("error")) throw;
    protocol::result_of(response, id);  // throws the service's error
    throw;
  }
  std::optional<std::string> payload = read_frame(*connection_, decoder_, timeout_);
  if (!payload) throw TransportError(ErrorKind::closed, "the service closed the connection without answering");
  json response = protocol::parse_bounded(*payload);
  if (response.is_discarded()) throw protocol::RpcError(protocol::kParseError, "the service's answer is not valid JSON");
  return protocol::result_of(response, id);
}

}  // namespace sluice::transport
