#pragma once

// The completion port of the IOCP backend and the threads around it: a pool of
// workers that take completion packets (finished overlapped operations, and commands
// posted by other threads) and hand each to its target, and a timer thread that posts
// what was scheduled once it is due. Nothing here knows about relays.

#include <winsock2.h>
#include <windows.h>

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <mutex>
#include <thread>
#include <vector>

namespace sluice::relay::iocp {

using Clock = std::chrono::steady_clock;

struct Operation;

// What an overlapped operation reports to (a relay, a listener). Called on a worker
// thread, possibly on several at once for different operations of one target.
class CompletionTarget {
 public:
  // `succeeded` false: the target asks the socket for the error (net::win::completion_error).
  virtual void on_completion(Operation& operation, DWORD bytes, bool succeeded) = 0;

 protected:
  ~CompletionTarget() = default;
};

// One overlapped operation. The kernel owns it from the moment a call starts it
// pending until its completion packet is taken from the port: it must not be freed,
// moved or reused in between.
struct Operation {
  OVERLAPPED overlapped{};
  DWORD flags = 0;  // receives: the provider writes the datagram's flags here
  CompletionTarget* target = nullptr;

  // Zeroes the OVERLAPPED for the next use (the kernel's fields must start cleared).
  void prepare() {
    overlapped = OVERLAPPED{};
    flags = 0;
  }
};

class Port {
 public:
  Port();  // creates the completion port; throws std::system_error
  ~Port();  // stops
  Port(const Port&) = delete;
  Port& operator=(const Port&) = delete;

  // Routes a socket's completions to this port (once per socket).
  void associate(SOCKET socket);

  void start(unsigned workers);
  // Stops the timer thread and the workers and joins them. Commands and timers not
  // run by then are dropped. Every operation must have been reported before: this
  // is the owner's to ensure (it knows what it started).
  void stop();

  // Runs `command` on a worker. Thread-safe.
  void post(std::function<void()> command);
  // Posts `command` once `when` has come. Thread-safe.
  void schedule(Clock::time_point when, std::function<void()> command);

 private:
  void work();
  void keep_time();
  void drop_queued_commands();

  HANDLE port_ = nullptr;
  std::vector<std::thread> workers_;

  struct Timer {
    Clock::time_point when;
    std::uint64_t sequence;  // equal times run in the order they were scheduled
    std::function<void()> command;
    bool operator>(const Timer& other) const {
      return when != other.when ? when > other.when : sequence > other.sequence;
    }
  };
  std::mutex timers_mutex_;
  std::condition_variable timers_changed_;
  std::vector<Timer> timers_;  // a heap, soonest first (std::greater)
  std::uint64_t next_sequence_ = 0;
  bool stopping_ = false;
  std::thread timer_thread_;
};

}  // namespace sluice::relay::iocp
