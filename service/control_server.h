#pragma once

// Serves the control plane: accepts clients on a transport Listener, reads frames,
// hands each payload to the Dispatcher and writes the answer back. One thread per
// client, a cap on clients, a cap per user, slots only administrators may take, and
// an idle timeout, so a broken or hostile client costs one slot for a bounded time,
// one user cannot take every slot, and an administrator always gets in.
//
// Who a client is comes from the transport: on a Unix socket at accept
// (SO_PEERCRED); on a named pipe only once the client has written (the client's
// token), so there a client is admitted provisionally against the total cap and
// checked against the per-user cap and the reserve when its first request arrives.

#include <atomic>
#include <chrono>
#include <cstdint>
#include <list>
#include <memory>
#include <string>
#include <mutex>
#include <thread>

#include "control/protocol/jsonrpc.h"
#include "control/transport/transport.h"

namespace sluice::service {

struct ControlServerLimits {
  // Every program running under a provider keeps one connection for its flow
  // registrations, besides the administrators' short-lived ones.
  std::size_t max_clients = 512;
  // A user who is not an administrator holds at most this many at once.
  std::size_t max_clients_per_user = 128;
  // The last of max_clients go only to administrators: users who are not may hold
  // at most max_clients - administrator_reserve between them.
  std::size_t administrator_reserve = 32;
  std::chrono::milliseconds idle_timeout{60'000};   // a silent client is dropped after this
  // Once a request's first byte is here, the whole frame must be within this: a
  // client trickling bytes would otherwise hold its slot however long it liked.
  std::chrono::milliseconds frame_timeout{10'000};
  std::chrono::milliseconds write_timeout{5'000};   // a client that does not read its answers is dropped
};

struct ControlServerCounters {
  std::uint64_t clients_accepted = 0;
  std::uint64_t clients_refused = 0;   // over any of the caps below
  std::uint64_t clients_refused_per_user = 0;   // of those: over max_clients_per_user
  std::uint64_t clients_refused_reserve = 0;    // of those: a non-administrator asking for a reserved slot
  std::uint64_t requests = 0;
  std::uint64_t protocol_errors = 0;   // oversized or truncated frames, idle timeouts
  std::uint64_t clients_connected = 0;
};

class ControlServer {
 public:
  ControlServer(std::unique_ptr<transport::Listener> listener, const protocol::Dispatcher& dispatcher,
                ControlServerLimits limits = {});
  ~ControlServer();

  ControlServer(const ControlServer&) = delete;
  ControlServer& operator=(const ControlServer&) = delete;

  void start();
  // Stops accepting, disconnects every client and joins every thread. Idempotent.
  void stop();

  ControlServerCounters counters() const;
  const std::string& endpoint() const { return listener_->endpoint(); }

 private:
  struct Client {
    std::shared_ptr<transport::Connection> connection;
    std::thread thread;
    std::atomic<bool> finished{false};
    // Known once the transport told who the client is (guarded by clients_mutex_).
    bool identified = false;
    bool administrator = false;
    std::string user;  // "uid N" on POSIX, the account on Windows
  };

  void accept_loop();
  void serve(Client& client, transport::Connection& connection);
  void reap_finished_clients();
  // With clients_mutex_ held: the error that refuses `caller` (nullptr: not known
  // yet), or null to admit it. `self` is the client asking, if already listed.
  protocol::json admission_refusal(const protocol::Caller* caller, const Client* self);
  void refuse(transport::Connection& connection, const protocol::json& error);

  std::unique_ptr<transport::Listener> listener_;
  const protocol::Dispatcher& dispatcher_;
  ControlServerLimits limits_;
  std::thread accept_thread_;
  mutable std::mutex clients_mutex_;
  std::list<Client> clients_;
  std::atomic<bool> stopping_{false};

  std::atomic<std::uint64_t> accepted_{0}, refused_{0}, refused_per_user_{0}, refused_reserve_{0}, requests_{0},
      protocol_errors_{0};
};

}  // namespace sluice::service
