// The systemd notification sender, against a datagram socket the test binds the
// way systemd does: a path, or a name in the abstract namespace ('@').
// Unix datagrams are queued on the receiver before sendto() returns, so every
// receive here is non-blocking: no waiting, no timing.

#include "service/process/host/posix_notify.h"

#include <gtest/gtest.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cstddef>
#include <cstdlib>
#include <cstring>
#include <optional>
#include <random>
#include <string>

#include "service/process/host/host.h"
#include "tests/support/temp_dir.h"

namespace sluice::service {
namespace {

// A bound AF_UNIX datagram socket standing in for systemd's notification socket.
class NotifyListener {
 public:
  // `name` is a path or "@abstract", as $NOTIFY_SOCKET spells it.
  explicit NotifyListener(std::string name) : name_(std::move(name)) {
    fd_ = ::socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    sockaddr_un address{};
    address.sun_family = AF_UNIX;
    std::memcpy(address.sun_path, name_.data(), name_.size());
    const bool abstract = name_.front() == '@';
    if (abstract) address.sun_path[0] = '\0';
    const auto length = static_cast<socklen_t>(offsetof(sockaddr_un, sun_path) + name_.size() + (abstract ? 0 : 1));
    bound_ = fd_ >= 0 && ::bind(fd_, reinterpret_cast<sockaddr*>(&address), length) == 0;
  }
  ~NotifyListener() {
    if (fd_ >= 0) ::close(fd_);
  }
  bool bound() const { return bound_; }
  const std::string& name() const { return name_; }

  // The next queued datagram, if one is there already.
  std::optional<std::string> take() {
    char buffer[4096];
    ssize_t n = ::recv(fd_, buffer, sizeof buffer, MSG_DONTWAIT);
    if (n < 0) return std::nullopt;
    return std::string(buffer, static_cast<std::size_t>(n));
  }

 private:
  std::string name_;
  int fd_ = -1;
  bool bound_ = false;
};

std::string unique_abstract_name() {
  std::random_device random;
  return "@sluice-notify-test-" + std::to_string(::getpid()) + "-" + std::to_string(random());
}

// Sets $NOTIFY_SOCKET for one test and restores the absence of it afterwards.
class NotifySocketVariable {
 public:
  explicit NotifySocketVariable(const std::string& value) { ::setenv("NOTIFY_SOCKET", value.c_str(), 1); }
  ~NotifySocketVariable() { ::unsetenv("NOTIFY_SOCKET"); }
};

TEST(PosixNotify, SendsTheStateToASocketPath) {
  test::TempDir dir;
  NotifyListener listener(dir.file("notify"));
  ASSERT_TRUE(listener.bound());
  std::string error;
  EXPECT_TRUE(send_notify_message(listener.name(), "READY=1", &error)) << error;
  EXPECT_EQ(listener.take(), "READY=1");
  EXPECT_EQ(listener.take(), std::nullopt);  // one datagram, one message
}

TEST(PosixNotify, SendsTheStateToAnAbstractName) {
  NotifyListener listener(unique_abstract_name());
  ASSERT_TRUE(listener.bound());
  std::string error;
  EXPECT_TRUE(send_notify_message(listener.name(), "STOPPING=1", &error)) << error;
  EXPECT_EQ(listener.take(), "STOPPING=1");
}

TEST(PosixNotify, AnAbstractNameIsNotAPathOfTheSameName) {
  // The abstract name "@x" and the file "x" are different sockets; a sender that
  // kept the '@' or added a NUL to an abstract name would reach neither.
  NotifyListener listener(unique_abstract_name());
  ASSERT_TRUE(listener.bound());
  EXPECT_TRUE(send_notify_message(listener.name(), "READY=1"));
  EXPECT_FALSE(send_notify_message(listener.name() + "-other", "READY=1"));
  EXPECT_EQ(listener.take(), "READY=1");
  EXPECT_EQ(listener.take(), std::nullopt);
}

TEST(PosixNotify, SeveralLinesTravelInOneDatagram) {
  NotifyListener listener(unique_abstract_name());
  ASSERT_TRUE(listener.bound());
  EXPECT_TRUE(send_notify_message(listener.name(), "RELOADING=1\nSTATUS=reading the configuration"));
  EXPECT_EQ(listener.take(), "RELOADING=1\nSTATUS=reading the configuration");
}

TEST(PosixNotify, RefusesNamesThatAreNotSocketAddressesAndNamesThem) {
  std::string error;
  EXPECT_FALSE(send_notify_message("run/systemd/notify", "READY=1", &error));
  EXPECT_NE(error.find("'run/systemd/notify'"), std::string::npos) << error;
  EXPECT_FALSE(send_notify_message("", "READY=1", &error));
  EXPECT_FALSE(send_notify_message("@", "READY=1", &error));
  const std::string too_long = "/" + std::string(sizeof(sockaddr_un{}.sun_path), 'x');
  EXPECT_FALSE(send_notify_message(too_long, "READY=1", &error));
  EXPECT_NE(error.find("longer"), std::string::npos) << error;
}

TEST(PosixNotify, ReportsASocketThatIsNotThere) {
  test::TempDir dir;
  std::string error;
  EXPECT_FALSE(send_notify_message(dir.file("nobody-listens"), "READY=1", &error));
  EXPECT_NE(error.find(dir.file("nobody-listens")), std::string::npos) << error;
}

TEST(PosixNotify, TheServiceManagerIsToldThroughNotifySocket) {
  NotifyListener listener(unique_abstract_name());
  ASSERT_TRUE(listener.bound());
  NotifySocketVariable variable(listener.name());
  notify_service_manager("RELOADING=1");
  notify_service_manager("READY=1");
  EXPECT_EQ(listener.take(), "RELOADING=1");
  EXPECT_EQ(listener.take(), "READY=1");
}

}  // namespace
}  // namespace sluice::service
