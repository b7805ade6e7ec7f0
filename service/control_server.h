#pragma once

// Serves the control plane: accepts clients on a transport Listener, reads frames,
// hands each payload to the Dispatcher and writes the answer back. One thread per
// client, a cap on clients, and an idle timeout, so a broken or hostile client costs
// one slot for a bounded time and never stops the service from answering others.

#include <atomic>
#include <chrono>
#include <cstdint>
#include <list>
#include <memory>
#include <mutex>
#include <thread>

#include "control/protocol/jsonrpc.h"
#include "control/transport/transport.h"

namespace sluice::service {

struct ControlServerLimits {
  // Every program running under a provider keeps one connection for its flow
  // registrations, besides the administrators' short-lived ones.
  std::size_t max_clients = 512;
  std::chrono::milliseconds idle_timeout{60'000};   // a silent client is dropped after this
  // Once a request's first byte is here, the whole frame must be within this: a
  // client trickling bytes would otherwise hold its slot however long it liked.
  std::chrono::milliseconds frame_timeout{10'000};
  std::chrono::milliseconds write_timeout{5'000};   // a client that does not read its answers is dropped
};

struct ControlServerCounters {
  std::uint64_t clients_accepted = 0;
  std::uint64_t clients_refused = 0;   // over max_clients
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
  };

  void accept_loop();
  void serve(transport::Connection& connection);
  void reap_finished_clients();

  std::unique_ptr<transport::Listener> listener_;
  const protocol::Dispatcher& dispatcher_;
  ControlServerLimits limits_;
  std::thread accept_thread_;
  mutable std::mutex clients_mutex_;
  std::list<Client> clients_;
  std::atomic<bool> stopping_{false};

  std::atomic<std::uint64_t> accepted_{0}, refused_{0}, requests_{0}, protocol_errors_{0};
};

}  // namespace sluice::service
