#pragma once

// The relay engine: loopback listeners and UDP associations that carry the flows the
// policy sends through the service, metered by token buckets. One API, one backend
// per platform, chosen by CMake (epoll_engine.cpp on Linux, iocp_engine.cpp on
// Windows): the class below is defined once by whichever backend is compiled in, so
// the hot path has no virtual call and shared code has no #ifdef.
//
// TCP: the provider binds the application's socket, registers (application's local
// address -> original destination) through the service, which calls expect_tcp(),
// then connects the socket to tcp_listener(). When the engine accepts a connection
// whose peer address matches an expectation it connects to the destination and
// copies both ways (half-close and resets propagated). A destination that cannot be
// reached resets the application's connection; an unexpected peer is reset at once.
//
// UDP: open_udp() creates an association socket on loopback that accepts datagrams
// only from the application's registered address, forwards each one unchanged to the
// destination from an upstream socket of its own, and sends what the destination
// answers back to the application from the association address.

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "service/relay/flow.h"
#include "service/relay/socket_owner.h"

namespace sluice::relay {

struct EngineConfig {
  unsigned workers = 0;                       // 0: one per core
  std::size_t buffer_bytes = 256 * 1024;      // per TCP direction
  bool zero_copy = true;                      // epoll: TCP through a kernel pipe (splice) where there is one
  bool inline_completions = true;             // IOCP: an operation that succeeds at once is finished by the
                                              // worker that started it, not through the port, where the
                                              // socket's provider allows (FILE_SKIP_COMPLETION_PORT_ON_SUCCESS)
  std::size_t udp_queue_datagrams = 512;      // queued per direction while over budget, then dropped
  std::size_t udp_queue_bytes = 1024 * 1024;  // the same bound in bytes (one user's total: Flow::user_queue)
  std::chrono::milliseconds udp_idle_timeout{60'000};     // an association with no traffic is closed
  // A relayed TCP connection that moved no byte either way for this long is reset (and
  // counted in tcp_idle_closed). 0: never, the default, since long quiet connections
  // (SSH, database pools) are legitimate; an administrator who would rather not let a
  // local user hold descriptors with silent connections sets one (relay-tcp-idle-timeout).
  std::chrono::milliseconds tcp_idle_timeout{0};
  std::chrono::milliseconds tcp_expect_timeout{10'000};   // a registration never followed by a connect
  std::chrono::milliseconds connect_timeout{10'000};      // to the destination
  // Addresses the listeners bind; tests and benchmarks use the defaults.
  std::string ipv4_loopback = "127.0.0.1";
  std::string ipv6_loopback = "::1";
  // Who owns a connecting socket: the system's tables. Only tests replace them.
  SocketTables socket_tables;
};

struct EngineCounters {
  std::uint64_t tcp_accepted = 0;
  std::uint64_t tcp_unexpected = 0;        // accepted connections no registration claimed
  std::uint64_t tcp_connect_failures = 0;  // destination refused or unreachable
  std::uint64_t tcp_wrong_owner = 0;       // registered peer address, but not from the socket the registration proved
  std::uint64_t tcp_idle_closed = 0;       // relayed connections reset after tcp_idle_timeout without traffic
  std::uint64_t udp_associations = 0;      // opened since start
  std::uint64_t udp_dropped = 0;           // datagrams dropped over budget or queue
  std::uint64_t flows_active = 0;
  std::uint64_t volume_closed = 0;         // flows the relay ended at their program's volume cap
  // IOCP: the relay's I/O buffers (64 KiB each) out of its pool now, given to a read
  // or holding data not yet sent; what the relay pins in memory. 0 on epoll.
  std::uint64_t buffers_in_use = 0;
};

class RelayEngine {
 public:
  explicit RelayEngine(EngineConfig config = {});
  ~RelayEngine();  // stops
  RelayEngine(const RelayEngine&) = delete;
  RelayEngine& operator=(const RelayEngine&) = delete;

  // An engine runs once: constructed, started, stopped, destroyed. start() and stop()
  // belong to its owner: call them from one thread, never while another thread is in
  // a member of the engine. Between them, every other member may be called from any
  // thread; after stop() they answer as described below.

  // Binds the TCP listeners (127.0.0.1 and ::1, ephemeral ports; a family the machine
  // lacks is skipped) and starts the workers. Does nothing when started already.
  // Throws std::system_error naming what failed; the engine is then stopped, with
  // nothing it bound left listening. A stopped engine cannot start again: start()
  // after a stop() that stopped it, or after a start() that threw, throws
  // std::system_error (operation_not_permitted); make a new engine.
  void start();

  // Stops the engine for good, and returns only once it is done: the listeners are
  // closed (a connection to their address is refused from then on), every live flow
  // is closed (relayed TCP connections reset, UDP associations closed, registrations
  // never connected dropped), each left FlowState::closed with the error "the relay
  // service stopped", and no worker runs; counters().flows_active is 0. Afterwards
  // expect_tcp() and open_udp() throw std::system_error, close_flow() ignores every
  // id, and tcp_listener() and counters() keep answering. Does nothing when the
  // engine is not running (before start(), which may still follow, or once
  // stopped); the destructor calls it.
  void stop();

  // The TCP listener of a family; port 0 when that family is unavailable (or before
  // start()). After stop() the address it had, where nothing listens any more.
  net::Endpoint tcp_listener(bool ipv6) const;

  // Expects a TCP connection from flow->app_local, from the socket flow->app_socket
  // names (see above); a flow whose socket is unknown is never claimed. The flow's counters,
  // limits and state are kept up to date by the engine.
  void expect_tcp(std::shared_ptr<Flow> flow);

  // Opens a UDP association for flow (protocol udp) and returns its address, in the
  // family of flow->app_local. Throws std::system_error when no socket can be had.
  net::Endpoint open_udp(std::shared_ptr<Flow> flow);

  // Closes a flow (an association the application released, an administrator's
  // order). Unknown ids are ignored.
  void close_flow(std::uint64_t id);

  EngineCounters counters() const;

  struct Impl;  // the backend's

 private:
  std::unique_ptr<Impl> impl_;
};

}  // namespace sluice::relay
