#pragma once

// The Linux provider's channel to sluiced (provider/core/service_channel.h): a Unix
// socket on a raw descriptor, connected by the client (provider/core/service_client.h)
// when needed, opened again after fork (the service knows a caller by the pid that
// connected) and closed on exec. The service process is the listener's pid, from
// SO_PEERCRED.
//
// The descriptor is the program's namespace, not ours: it sits high (kHighDescriptor
// and up, where programs do not count), close-on-exec, and its device and inode are
// checked before every use. A program that closes or replaces that number (the
// interposed close, dup2, dup3, close_range, closefrom call descriptors_closing first)
// takes it: the provider forgets its connection and opens another on next need,
// so it never writes to or reads from a file or socket the program put there.

#include <atomic>
#include <cstdint>
#include <string>

#include "provider/core/service_channel.h"
#include "provider/core/service_client.h"

namespace sluice::preload {

class ControlChannel final : public provider::ServiceChannel {
 public:
  explicit ControlChannel(std::string socket_path) : path_(std::move(socket_path)) {}
  ~ControlChannel() override { disconnect(); }
  ControlChannel(const ControlChannel&) = delete;
  ControlChannel& operator=(const ControlChannel&) = delete;

  bool is_open() override;
  bool connect(Clock::time_point deadline, bool* absent) override;
  bool send(const std::string& bytes, Clock::time_point deadline) override;
  bool receive(char* buffer, std::size_t size, std::size_t* received, Clock::time_point deadline) override;
  void disconnect() override;
  bool hung_up() override;
  std::int64_t service_instance() override { return service_pid_; }

  // The program is about to close or replace descriptors low..high. If the
  // connection is among them it is forgotten (the program's call closes it) and its
  // identity returned, so that a call which then fails can give it back with
  // close_if_unchanged. Waits (`client`'s lock) for a registration using it to end.
  struct Dropped {
    int fd = -1;
    unsigned long long device = 0, inode = 0;
  };
  Dropped descriptors_closing(unsigned low, unsigned high, provider::ServiceClient& client);
  // Closes `dropped` if that number still holds the forgotten connection.
  static void close_if_unchanged(const Dropped& dropped);

  // Where the connection is moved to (the lowest free number from here), unless
  // RLIMIT_NOFILE is too small for it: then half the limit.
  static constexpr int kHighDescriptor = 900;

 private:
  void set_fd(int fd);  // fd_ and published_fd_ together

  const std::string path_;
  int fd_ = -1;
  std::atomic<int> published_fd_{-1};  // fd_, for descriptors_closing to look at without the lock
  unsigned long long device_ = 0, inode_ = 0;  // fd_'s, from fstat when it was opened
  std::int64_t service_pid_ = 0;  // of fd_'s listener
};

}  // namespace sluice::preload
