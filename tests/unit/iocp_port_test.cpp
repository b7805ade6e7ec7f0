// The completion port of the IOCP relay backend (Windows): posted and scheduled
// commands run on its workers, what never ran is dropped at stop, and an overlapped
// receive that finds its datagram already there is reported exactly once, inline
// (FILE_SKIP_COMPLETION_PORT_ON_SUCCESS granted) or by its packet (not granted).

#include "service/relay/iocp_port.h"

#include <gtest/gtest.h>

#include <atomic>
#include <iostream>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "net/win_socket.h"

namespace sluice::relay::iocp {
namespace {

using namespace std::chrono_literals;

template <class Predicate>
bool eventually(Predicate predicate) {
  for (int i = 0; i < 500; ++i) {
    if (predicate()) return true;
    std::this_thread::sleep_for(10ms);
  }
  return predicate();
}

class IocpPortTest : public ::testing::Test {
 protected:
  net::win::WinsockSession winsock;
  Port port;
};

TEST_F(IocpPortTest, PostedCommandsRunOnTheWorkers) {
  port.start(2);
  std::atomic<int> ran{0};
  const auto caller = std::this_thread::get_id();
  std::atomic<bool> on_caller{false};
  for (int i = 0; i < 100; ++i) {
    port.post([&] {
      if (std::this_thread::get_id() == caller) on_caller = true;
      ran++;
    });
  }
  EXPECT_TRUE(eventually([&] { return ran == 100; })) << ran;
  EXPECT_FALSE(on_caller);
}

TEST_F(IocpPortTest, ScheduledCommandsRunSoonestFirst) {
  port.start(1);
  std::mutex mutex;
  std::vector<std::string> order;
  const auto now = Clock::now();
  port.schedule(now + 300ms, [&] {
    std::lock_guard lock(mutex);
    order.push_back("later");
  });
  port.schedule(now + 50ms, [&] {
    std::lock_guard lock(mutex);
    order.push_back("sooner");
  });
  EXPECT_TRUE(eventually([&] {
    std::lock_guard lock(mutex);
    return order.size() == 2;
  }));
  std::lock_guard lock(mutex);
  EXPECT_EQ(order, (std::vector<std::string>{"sooner", "later"}));
}

TEST_F(IocpPortTest, StopDropsCommandsThatNeverRan) {
  port.start(1);
  auto token = std::make_shared<int>(0);
  port.schedule(Clock::now() + std::chrono::hours(1), [token] { ++*token; });
  EXPECT_EQ(token.use_count(), 2);
  port.stop();
  EXPECT_EQ(token.use_count(), 1) << "the command was neither run nor freed";
  EXPECT_EQ(*token, 0);
  port.stop();  // idempotent
}

struct CountingTarget final : CompletionTarget {
  void on_completion(Operation&, DWORD bytes, bool succeeded) override {
    last_bytes = bytes;
    ok = succeeded;
    packets++;
  }
  std::atomic<int> packets{0};
  std::atomic<DWORD> last_bytes{0};
  std::atomic<bool> ok{false};
};

class IocpReceiveTest : public IocpPortTest, public ::testing::WithParamInterface<bool> {};

TEST_P(IocpReceiveTest, AReceiveThatFindsItsDatagramIsReportedOnce) {
  port.start(2);
  const net::Endpoint loopback{net::loopback(true), 0};
  net::win::Socket receiver = net::win::open_socket(AF_INET, SOCK_DGRAM, "receiver");
  net::win::Socket sender = net::win::open_socket(AF_INET, SOCK_DGRAM, "sender");
  net::win::bind(receiver, loopback, "bind receiver");
  port.associate(receiver.handle);
  if (GetParam()) net::win::skip_completion_port_on_success(receiver);
  std::cout << "inline completions " << (GetParam() ? "asked for, " : "not asked for, ")
            << (receiver.completes_inline ? "granted" : "not in effect") << "\n";

  const net::SocketAddress to = net::to_sockaddr(net::win::local_address(receiver));
  const std::string datagram = "already waiting";
  ASSERT_EQ(::sendto(sender.handle, datagram.data(), static_cast<int>(datagram.size()), 0, to.get(), to.length),
            static_cast<int>(datagram.size()));
  WSAPOLLFD poll{receiver.handle, POLLRDNORM, 0};
  ASSERT_EQ(WSAPoll(&poll, 1, 5000), 1) << "the datagram never arrived";

  CountingTarget target;
  Operation operation;
  operation.target = &target;
  operation.prepare();
  char buffer[64];
  sockaddr_storage from{};
  int from_length = 0;
  const net::win::Started started =
      net::win::start_recv_from(receiver, buffer, sizeof buffer, &from, &from_length, &operation.flags, &operation.overlapped);
  ASSERT_NE(started.kind, net::win::Started::failed) << net::win::error_text(started.error);
  std::cout << (started.kind == net::win::Started::done ? "finished inline\n" : "reported by its packet\n");
  if (started.kind == net::win::Started::done) {
    EXPECT_TRUE(receiver.completes_inline) << "finished at once without asking to skip the port";
    EXPECT_EQ(started.bytes, datagram.size());
  } else {
    EXPECT_TRUE(eventually([&] { return target.packets == 1; }));
    EXPECT_TRUE(target.ok);
    EXPECT_EQ(target.last_bytes, datagram.size());
  }
  EXPECT_EQ(std::string(buffer, datagram.size()), datagram);
  // A second report would be a double completion: the operation's memory freed or
  // reused twice. Nothing more may come.
  std::this_thread::sleep_for(300ms);
  EXPECT_EQ(target.packets.load(), started.kind == net::win::Started::done ? 0 : 1);
  net::win::close(receiver);
  net::win::close(sender);
  port.stop();
}

INSTANTIATE_TEST_SUITE_P(Modes, IocpReceiveTest, ::testing::Bool(),
                         [](const auto& info) { return info.param ? "InlineAskedFor" : "ThroughThePort"; });

}  // namespace
}  // namespace sluice::relay::iocp
