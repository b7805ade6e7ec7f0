// The Windows backend of the relay engine (an I/O completion port, overlapped
// WSARecv/WSARecvFrom in and WSASendTo out) is not written yet: until it is, start()
// fails with a message saying so, and sluiced runs without a data plane (policy is
// still administered and decided; relay verdicts are refused, so providers apply
// their fail mode).

#include <system_error>

#include "service/relay/relay_engine.h"

namespace sluice::relay {

struct RelayEngine::Impl {};

RelayEngine::RelayEngine(EngineConfig) {}
RelayEngine::~RelayEngine() = default;

void RelayEngine::start() {
  throw std::system_error(std::make_error_code(std::errc::function_not_supported),
                          "the IOCP relay engine is not available in this build");
}
void RelayEngine::stop() {}
Address RelayEngine::tcp_listener(bool) const { return {}; }
void RelayEngine::expect_tcp(std::shared_ptr<Flow>) {
  throw std::system_error(std::make_error_code(std::errc::function_not_supported), "relay engine not started");
}
Address RelayEngine::open_udp(std::shared_ptr<Flow>) {
  throw std::system_error(std::make_error_code(std::errc::function_not_supported), "relay engine not started");
}
void RelayEngine::close_flow(std::uint64_t) {}
EngineCounters RelayEngine::counters() const { return {}; }

}  // namespace sluice::relay
