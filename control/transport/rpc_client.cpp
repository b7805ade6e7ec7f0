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
  write_frame(*connection_, protocol::make_request(id, method, std::move(params)).dump(), timeout_);
  std::optional<std::string> payload = read_frame(*connection_, decoder_, timeout_);
  if (!payload) throw TransportError(ErrorKind::closed, "the service closed the connection without answering");
  json response = json::parse(*payload, nullptr, /*allow_exceptions=*/false);
  if (response.is_discarded()) throw protocol::RpcError(protocol::kParseError, "the service's answer is not valid JSON");
  return protocol::result_of(response, id);
}

}  // namespace sluice::transport
