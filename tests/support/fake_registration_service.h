#pragma once

// A stand-in for sluiced's side of the provider protocol (flow.register and
// flow.release on a Unix socket), for testing the preload provider without the
// real service: each registration is recorded with the caller's pid and answered
// by a function the test sets, or not answered at all.

#include <sys/types.h>

#include <atomic>
#include <condition_variable>
#include <functional>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include <nlohmann/json.hpp>

namespace sluice::test {

struct Registration {
  nlohmann::json params;
  pid_t pid = -1;  // from SO_PEERCRED
};

class FakeRegistrationService {
 public:
  // Returns the result object for a registration, or null to stay silent.
  using Decide = std::function<nlohmann::json(const nlohmann::json& params)>;

  explicit FakeRegistrationService(std::string path);
  ~FakeRegistrationService();

  void set_decide(Decide decide);
  std::vector<Registration> registrations() const;
  std::vector<std::uint64_t> releases() const;
  // Waits (at most 5 s) until `count` releases arrived.
  bool wait_for_releases(std::size_t count) const;
  void clear();
  // Hangs up on every client, as sluiced does with an idle one, and keeps listening.
  void drop_clients();

 private:
  void accept_loop();
  void serve(int fd);

  std::string path_;
  int listener_ = -1;
  std::atomic<bool> stopping_{false};
  mutable std::mutex mutex_;
  mutable std::condition_variable changed_;
  Decide decide_;
  std::vector<Registration> registrations_;
  std::vector<std::uint64_t> releases_;
  std::vector<int> clients_;
  std::vector<std::thread> threads_;
  std::thread acceptor_;
};

}  // namespace sluice::test
