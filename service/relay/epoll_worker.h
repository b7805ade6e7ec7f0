#pragma once

// The parts of the epoll backend: engine-wide state (Shared), the worker threads
// (one epoll set each) and the relays they own. A relay lives on one worker and is
// touched only by that worker's thread; other threads reach it through post().

#include <sys/epoll.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <queue>
#include <thread>
#include <unordered_map>
#include <vector>

#include "service/relay/expected_connections.h"
#include "service/relay/relay_engine.h"

namespace sluice::relay::epoll {

using Clock = std::chrono::steady_clock;

class Worker;

// A relayed flow as a worker drives it: a TCP connection pair or a UDP association.
class Relay {
 public:
  explicit Relay(std::shared_ptr<Flow> flow) : flow_(std::move(flow)) {}
  virtual ~Relay() = default;
  // Registers the relay's sockets with its worker's epoll set.
  virtual void start(Worker& worker) = 0;
  virtual void on_event(Worker& worker, int side, std::uint32_t events) = 0;
  // A deadline the relay asked for passed (it may have asked for several).
  virtual void on_timer(Worker& worker, Clock::time_point now) = 0;
  // Ends the relay now; `state` and `why` are recorded on the flow.
  virtual void close(Worker& worker, FlowState state, const std::string& why) = 0;
  bool finished() const { return finished_; }
  const std::shared_ptr<Flow>& flow() const { return flow_; }

 protected:
  std::shared_ptr<Flow> flow_;
  bool finished_ = false;
};

// What an epoll event points at: a relay's socket, or (relay == nullptr) a listener.
struct Handle {
  Relay* relay = nullptr;
  int side = 0;  // relay: which socket; listener: its fd
};

struct AtomicCounters {
  std::atomic<std::uint64_t> tcp_accepted{0}, tcp_unexpected{0}, tcp_connect_failures{0}, tcp_wrong_owner{0},
      tcp_idle_closed{0};
  std::atomic<std::uint64_t> udp_associations{0}, udp_dropped{0}, flows_active{0}, volume_closed{0};
};

// State every worker shares, under its own lock.
struct Shared {
  EngineConfig config;
  bool zero_copy = true;
  AtomicCounters counters;

  ExpectedConnections expected;  // registered TCP flows not yet connected
  std::mutex mutex;              // guards owner
  std::unordered_map<std::uint64_t, unsigned> owner;  // flow id -> worker index
};

class Worker {
 public:
  Worker(Shared& shared, unsigned index, const std::vector<int>& listeners);
  ~Worker();
  Worker(const Worker&) = delete;
  Worker& operator=(const Worker&) = delete;

  void start();
  // Asks the thread to close every relay and return; join() waits for it.
  void request_stop();
  void join();

  // Thread-safe: runs `command` on the worker's thread.
  void post(std::function<void(Worker&)> command);

  // Worker thread only.
  void adopt(std::unique_ptr<Relay> relay);
  void close_relay(std::uint64_t id, FlowState state, const std::string& why);
  void watch(int fd, Handle* handle, std::uint32_t events);
  void rewatch(int fd, Handle* handle, std::uint32_t events);
  void unwatch(int fd);
  void wake_at(Clock::time_point when, std::uint64_t id);

  Shared& shared() { return shared_; }
  unsigned index() const { return index_; }
  // Per-worker scratch for batched UDP receives.
  struct Scratch;
  Scratch& scratch() { return *scratch_; }

 private:
  void run();
  void run_commands();
  void run_timers(Clock::time_point now);
  void accept_from(int listener);
  void start_tcp_relay(int app_fd, std::shared_ptr<Flow> flow);
  void finish(Relay& relay);
  int next_timeout(Clock::time_point now) const;

  Shared& shared_;
  unsigned index_;
  int epoll_fd_ = -1;
  int wake_fd_ = -1;
  std::vector<Handle> listener_handles_;
  Handle wake_handle_;
  std::unique_ptr<Scratch> scratch_;

  std::mutex commands_mutex_;
  std::vector<std::function<void(Worker&)>> commands_;
  std::atomic<bool> stopping_{false};

  using Timer = std::pair<Clock::time_point, std::uint64_t>;
  std::priority_queue<Timer, std::vector<Timer>, std::greater<>> timers_;
  std::unordered_map<std::uint64_t, std::unique_ptr<Relay>> relays_;
  std::vector<std::unique_ptr<Relay>> retired_;  // freed after the event batch that ended them
  Clock::time_point next_sweep_;
  std::thread thread_;
};

}  // namespace sluice::relay::epoll
