#include "tests/support/fake_registration_service.h"

#include <poll.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <chrono>
#include <cstring>
#include <stdexcept>

#include "control/protocol/frame.h"

namespace sluice::test {

using nlohmann::json;

FakeRegistrationService::FakeRegistrationService(std::string path) : path_(std::move(path)) {
  ::unlink(path_.c_str());
  listener_ = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_un address{};
  address.sun_family = AF_UNIX;
  std::strncpy(address.sun_path, path_.c_str(), sizeof address.sun_path - 1);
  if (::bind(listener_, reinterpret_cast<sockaddr*>(&address), sizeof address) != 0 || ::listen(listener_, 64) != 0) {
    throw std::runtime_error("cannot listen on " + path_ + ": " + std::strerror(errno));
  }
  acceptor_ = std::thread([this] { accept_loop(); });
}

FakeRegistrationService::~FakeRegistrationService() {
  stopping_ = true;
  ::shutdown(listener_, SHUT_RDWR);
  acceptor_.join();
  {
    std::lock_guard lock(mutex_);
    for (int fd : clients_) ::shutdown(fd, SHUT_RDWR);
  }
  for (auto& t : threads_) t.join();
  for (int fd : clients_) ::close(fd);
  ::close(listener_);
  ::unlink(path_.c_str());
}

void FakeRegistrationService::set_decide(Decide decide) {
  std::lock_guard lock(mutex_);
  decide_ = std::move(decide);
}

std::vector<Registration> FakeRegistrationService::registrations() const {
  std::lock_guard lock(mutex_);
  return registrations_;
}

std::vector<std::uint64_t> FakeRegistrationService::releases() const {
  std::lock_guard lock(mutex_);
  return releases_;
}

bool FakeRegistrationService::wait_for_releases(std::size_t count) const {
  std::unique_lock lock(mutex_);
  return changed_.wait_for(lock, std::chrono::seconds(5), [&] { return releases_.size() >= count; });
}

void FakeRegistrationService::clear() {
  std::lock_guard lock(mutex_);
  registrations_.clear();
  releases_.clear();
}

void FakeRegistrationService::drop_clients() {
  std::lock_guard lock(mutex_);
  for (int fd : clients_) ::shutdown(fd, SHUT_RDWR);  // closed by the destructor
}

void FakeRegistrationService::accept_loop() {
  for (;;) {
    const int fd = ::accept4(listener_, nullptr, nullptr, SOCK_CLOEXEC);
    if (fd < 0) {
      if (stopping_) return;
      continue;
    }
    std::lock_guard lock(mutex_);
    clients_.push_back(fd);
    threads_.emplace_back([this, fd] { serve(fd); });
  }
}

void FakeRegistrationService::serve(int fd) {
  ucred credentials{};
  socklen_t length = sizeof credentials;
  ::getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &credentials, &length);
  protocol::FrameDecoder decoder;
  char buffer[4096];
  for (;;) {
    const ssize_t n = ::read(fd, buffer, sizeof buffer);
    if (n <= 0) break;
    decoder.feed(buffer, static_cast<std::size_t>(n));
    std::string payload;
    while (decoder.next(payload)) {
      const json request = json::parse(payload);
      json answer;
      {
        std::lock_guard lock(mutex_);
        if (request["method"] == "flow.release") {
          releases_.push_back(request["params"]["flow_id"].get<std::uint64_t>());
          changed_.notify_all();
          continue;
        }
        registrations_.push_back({request["params"], credentials.pid});
        changed_.notify_all();
        if (decide_) answer = decide_(request["params"]);
      }
      if (answer.is_null()) continue;  // silence: the provider's timeout decides
      const std::string frame =
          protocol::encode_frame(json{{"jsonrpc", "2.0"}, {"id", request["id"]}, {"result", answer}}.dump());
      if (::send(fd, frame.data(), frame.size(), MSG_NOSIGNAL) != static_cast<ssize_t>(frame.size())) break;
    }
  }
  // The descriptor is closed by the destructor, after every thread is done with it.
}

}  // namespace sluice::test
