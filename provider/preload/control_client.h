#pragma once

// The provider's connection to sluiced: one per process, kept open, opened again
// after fork (the service knows a caller by the pid that connected) and closed on
// exec. Every wait is bounded by the caller's timeout; a late, garbled or missing
// answer is the same to the caller as no answer, and the connection is dropped so
// a late answer can never be taken for the next one. It also tells which service
// process is there (the listener's pid, from SO_PEERCRED): a UDP association dies
// with the process that opened it, and a restarted service knows nothing of it.
//
// The descriptor is the program's namespace, not ours: it sits high (kHighDescriptor
// and up, where programs do not count), close-on-exec, and its device and inode are
// checked before every use. A program that closes or replaces that number (the
// interposed close, dup2, dup3, close_range, closefrom call descriptors_closing first)
// takes it: the provider forgets its connection and opens another on next need,
// so it never writes to or reads from a file or socket the program put there.

#include <atomic>
#include <chrono>
#include <cstdint>
#include <mutex>
#include <optional>
#include <string>

#include "control/protocol/frame.h"
#include "provider/client/flow_router.h"
#include "provider/client/registration.h"

namespace sluice::preload {

class ControlClient final : public provider::RegistrationClient {
 public:
  explicit ControlClient(std::string socket_path) : path_(std::move(socket_path)) {}
  ~ControlClient() override;
  ControlClient(const ControlClient&) = delete;
  ControlClient& operator=(const ControlClient&) = delete;

  // nullopt when the service is not there, does not answer in time, or refuses.
  std::optional<provider::RegisterAnswer> register_flow(const provider::RegisterRequest& request,
                                                       std::chrono::milliseconds timeout) override;
  // Best effort: a notification, nothing is awaited.
  void release(std::uint64_t flow_id) override;

  // The service process listening now (its pid), 0 when none does. Looked at no more
  // than every kServiceCheckInterval (in between, the last look's answer), and never
  // waited on: while a registration holds the connection, or the service is too busy
  // to accept one, the last answer stands. Safe to call from any thread.
  std::int64_t current_service();
  static constexpr std::chrono::milliseconds kServiceCheckInterval{100};

  // The program is about to close or replace descriptors low..high. If the
  // connection is among them it is forgotten (the program's call closes it) and its
  // identity returned, so that a call which then fails can give it back with
  // close_if_unchanged. Waits for a registration using it to end.
  struct Dropped {
    int fd = -1;
    unsigned long long device = 0, inode = 0;
  };
  Dropped descriptors_closing(unsigned low, unsigned high);
  // Closes `dropped` if that number still holds the forgotten connection.
  static void close_if_unchanged(const Dropped& dropped);

  // Where the connection is moved to (the lowest free number from here), unless
  // RLIMIT_NOFILE is too small for it: then half the limit.
  static constexpr int kHighDescriptor = 900;

  // pthread_atfork: the child starts without a connection (it would speak with the
  // parent's identity) and with the lock free.
  void before_fork() { mutex_.lock(); }
  void after_fork_in_parent() { mutex_.unlock(); }
  void after_fork_in_child();

 private:
  using Clock = std::chrono::steady_clock;
  // `absent`, if given, is set when nothing listens at the path (rather than a
  // listener too busy to accept by the deadline, or no descriptor to be had).
  bool connect_locked(Clock::time_point deadline, bool* absent = nullptr);
  bool send_locked(const std::string& payload, Clock::time_point deadline);
  bool receive_locked(std::string& payload, Clock::time_point deadline);
  void disconnect_locked();
  // Whether fd_ is still the socket connect_locked opened (fstat: device and inode);
  // if not, it is forgotten without being closed (that number is the program's now).
  bool still_ours_locked();
  void set_fd_locked(int fd);  // fd_ and published_fd_ together

  const std::string path_;
  std::mutex mutex_;
  int fd_ = -1;
  std::atomic<int> published_fd_{-1};  // fd_, for descriptors_closing to look at without the lock
  unsigned long long device_ = 0, inode_ = 0;  // fd_'s, from fstat when it was opened
  std::int64_t service_pid_ = 0;  // of fd_'s listener
  std::int64_t next_id_ = 1;
  protocol::FrameDecoder decoder_;
  std::atomic<std::int64_t> last_service_{0};
  std::atomic<Clock::rep> next_service_check_{0};
};

}  // namespace sluice::preload
