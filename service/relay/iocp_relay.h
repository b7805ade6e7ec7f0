#pragma once

// The parts every relay of the IOCP backend shares: the engine-wide context (the
// completion port, the buffer pool, the counters, the relays by flow id) and the Relay
// base class, which keeps the one rule of completion ports: an operation's memory
// belongs to the kernel until its completion is reported, so a relay that has ended
// stays allocated until every operation it started has come back.
//
// Completions of one relay may arrive on several workers at once: each relay has a
// mutex, and everything it does (start, completions, timers, close) runs under it.

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <unordered_map>

#include "net/win_socket.h"
#include "service/relay/buffer_pool.h"
#include "service/relay/iocp_port.h"
#include "service/relay/relay_engine.h"

namespace sluice::relay::iocp {

// Operations a relay finishes inline in one go before it lets other relays have the
// worker (the rest is posted back to the port).
constexpr int kInlineBudget = 32;

struct AtomicCounters {
  std::atomic<std::uint64_t> tcp_accepted{0}, tcp_unexpected{0}, tcp_connect_failures{0}, tcp_wrong_owner{0},
      tcp_idle_closed{0};
  std::atomic<std::uint64_t> udp_associations{0}, udp_dropped{0}, flows_active{0}, volume_closed{0};
};

class Relay;

struct Context {
  explicit Context(EngineConfig engine_config);

  EngineConfig config;
  AtomicCounters counters;
  // Declared before the port: commands the port drops at the end may hold the last
  // reference to a relay, whose buffers go back here.
  BufferPool buffers;
  Port port;

  // Routes a socket's completions to the port, and lets operations that succeed at
  // once finish inline when the configuration and the socket's provider allow.
  void attach(net::win::Socket& socket);
  // Takes a relay on (counted active) and starts it on a worker: every operation is
  // started from a worker thread. While stopping, the relay is closed instead.
  void adopt(std::shared_ptr<Relay> relay);
  // The relay of a flow, if it is still here.
  std::shared_ptr<Relay> find(std::uint64_t id);
  // Stops taking relays on and closes every one; then waits (up to `bound`) until
  // each has got back all its operations and left. False when some did not: those
  // are abandoned (never freed) rather than freed under the kernel's feet.
  bool close_all_and_wait(const std::string& why, std::chrono::milliseconds bound);

 private:
  friend class Relay;
  void forget(std::uint64_t id);

  std::mutex mutex_;
  std::condition_variable emptied_;
  std::unordered_map<std::uint64_t, std::shared_ptr<Relay>> relays_;
  bool stopping_ = false;
};

class Relay : public CompletionTarget, public std::enable_shared_from_this<Relay> {
 public:
  Relay(Context& context, std::shared_ptr<Flow> flow);
  virtual ~Relay() = default;
  Relay(const Relay&) = delete;
  Relay& operator=(const Relay&) = delete;

  std::uint64_t id() const { return flow_->id; }

  // Worker thread: starts the first operations.
  void start();
  // Any thread: ends the relay now (its sockets closed, which cancels what is
  // outstanding); `state` and `why` are recorded on the flow.
  void close(FlowState state, const std::string& why);
  void on_completion(Operation& operation, DWORD bytes, bool succeeded) final;

 protected:
  // All of these run with the relay's mutex held, and only while it has not ended.
  virtual void start_locked() = 0;
  virtual void completed_locked(Operation& operation, DWORD bytes, bool succeeded) = 0;
  // A deadline the relay asked for passed (it may have asked for several).
  virtual void timer_locked(Clock::time_point now) = 0;
  // Carries on after yield().
  virtual void resume_locked() = 0;
  // Closes the sockets: gracefully when `clean`, else with a reset.
  virtual void close_sockets_locked(bool clean) = 0;

  // Ends the relay (see close()); callers hold the mutex.
  void end_locked(FlowState state, const std::string& why);
  // Counts an operation just started that the port will report.
  net::win::Started track(net::win::Started started);
  // Asks for timer_locked() at `when`.
  void wake_at(Clock::time_point when);
  // Lets other relays have the worker; resume_locked() follows from the port.
  void yield();

  Context& context_;
  std::shared_ptr<Flow> flow_;
  bool finished_ = false;

 private:
  void on_timer();
  void on_resume();
  // The relay has ended and the kernel holds none of its operations: it leaves the
  // context; `keep` holds it until the caller has let go of the mutex.
  void leave_if_done_locked(std::shared_ptr<Relay>& keep);

  std::mutex mutex_;
  int outstanding_ = 0;  // operations started and not yet reported
  bool left_ = false;
};

}  // namespace sluice::relay::iocp
