#pragma once

// Serves the control plane. One thread (transport::EventServer) waits on every
// client at once, reads frames and writes answers; a few dispatch threads carry the
// requests out, administrators' first. A cap on clients, a cap per user, slots only
// administrators may take, and idle, frame and write timeouts, so a broken or
// hostile client costs one slot for a bounded time, one user cannot take every
// slot, and an administrator always gets in. A client has one request in hand at a
// time and is not read from meanwhile: what it can make sluiced hold is one frame
// being read, one being handled and one answer being written.
//
// Who a client is comes from the transport: on a Unix socket at accept
// (SO_PEERCRED); on a named pipe only once the client has written (the client's
// token), so there a client is admitted provisionally against the total cap and
// checked against the per-user cap and the reserve when its first bytes arrive.

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <unordered_map>
#include <vector>

#include "control/protocol/frame.h"
#include "control/protocol/jsonrpc.h"
#include "control/transport/event_server.h"

namespace sluice::service {

struct ControlServerLimits {
  // Every program running under a provider keeps one connection for its flow
  // registrations, besides the administrators' short-lived ones.
  std::size_t max_clients = 4096;
  // A user who is not an administrator holds at most this many at once.
  std::size_t max_clients_per_user = 1024;
  // The last of max_clients go only to administrators: users who are not may hold
  // at most max_clients - administrator_reserve between them.
  std::size_t administrator_reserve = 64;
  std::chrono::milliseconds idle_timeout{60'000};   // a silent client is dropped after this
  // Once a request's first byte is here, the whole frame must be within this: a
  // client trickling bytes would otherwise hold its slot however long it liked.
  std::chrono::milliseconds frame_timeout{10'000};
  std::chrono::milliseconds write_timeout{5'000};   // a client that does not read its answers is dropped
  // Threads carrying requests out. Requests are short (a store read, a flow
  // registration); a few threads keep one slow request from holding up the rest.
  std::size_t dispatch_threads = 4;
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

class ControlServer : private transport::ServerEvents {
 public:
  ControlServer(std::unique_ptr<transport::Listener> listener, const protocol::Dispatcher& dispatcher,
                ControlServerLimits limits = {});
  ~ControlServer() override;

  ControlServer(const ControlServer&) = delete;
  ControlServer& operator=(const ControlServer&) = delete;

  void start();
  // Stops accepting, disconnects every client and joins every thread. Idempotent.
  void stop();

  ControlServerCounters counters() const;
  const std::string& endpoint() const { return server_->endpoint(); }

 private:
  using Clock = std::chrono::steady_clock;
  struct HeldCaller;  // a Caller whose process handle is closed with the last reference

  struct Client {
    protocol::FrameDecoder decoder;
    std::shared_ptr<const HeldCaller> caller;  // null until identified
    bool administrator = false;
    std::string user;  // "uid N" on POSIX, the account on Windows
    bool busy = false;      // a request is being handled, or its answer written
    bool closing = false;   // refused or failed: only its last answer is still going out
    Clock::time_point idle_deadline;
    std::optional<Clock::time_point> frame_deadline;  // a frame has begun
    std::optional<Clock::time_point> write_deadline;  // an answer is being written
  };

  struct Job {
    transport::ClientId client;
    std::string payload;
    std::shared_ptr<const HeldCaller> caller;
  };

  // transport::ServerEvents, on the event thread.
  void connected(transport::ClientId id) override;
  void identified(transport::ClientId id, protocol::Caller caller) override;
  void received(transport::ClientId id, std::string_view bytes) override;
  void drained(transport::ClientId id) override;
  void disconnected(transport::ClientId id) override;
  void tick() override;

  void take_next_request(transport::ClientId id, Client& client);
  void answered(transport::ClientId id, const std::string& response);
  // The error that refuses a client (`caller` null: not identified yet), or null.
  protocol::json admission_refusal(const protocol::Caller* caller, transport::ClientId self);
  void refuse(transport::ClientId id, Client& client, const protocol::json& error);
  void log_refusal(std::int64_t pid, const std::string& message);
  void log_refusals_left_out(Clock::time_point now);
  void drop(transport::ClientId id, Client& client, bool protocol_error);
  void dispatch_loop();

  std::unique_ptr<transport::EventServer> server_;
  const protocol::Dispatcher& dispatcher_;
  ControlServerLimits limits_;
  std::thread event_thread_;
  std::vector<std::thread> dispatch_threads_;
  std::unordered_map<transport::ClientId, Client> clients_;  // event thread only
  static constexpr int kRefusalsLoggedPerSecond = 10;
  Clock::time_point refusal_log_second_{};  // event thread only, as the two counts
  int refusals_logged_ = 0;
  std::uint64_t refusals_left_out_ = 0;

  std::mutex jobs_mutex_;
  std::condition_variable jobs_ready_;
  std::deque<Job> administrator_jobs_, jobs_;  // administrators' are taken first
  bool jobs_closed_ = false;

  std::atomic<bool> stopping_{false};
  std::atomic<std::uint64_t> accepted_{0}, refused_{0}, refused_per_user_{0}, refused_reserve_{0}, requests_{0},
      protocol_errors_{0}, connected_{0};
};

}  // namespace sluice::service
