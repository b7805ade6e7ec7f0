// provider/preload/socket_table: per-descriptor state, routes, dup and release.
#include <gtest/gtest.h>

#include <thread>
#include <vector>

#include "provider/preload/socket_table.h"

using namespace sluice::preload;
using Clock = std::chrono::steady_clock;

namespace {

std::vector<std::uint64_t> released;
void record_release(std::uint64_t id) { released.push_back(id); }

Route relay_route(const char* destination, std::uint16_t port, std::uint16_t relay_port, std::uint64_t flow) {
  Route r;
  r.destination = *sluice::net::parse_endpoint(destination, port);
  r.kind = RouteKind::relay;
  r.relay = *sluice::net::parse_endpoint("127.0.0.1", relay_port);
  r.flow_id = flow;
  return r;
}

class SocketTableTest : public ::testing::Test {
 protected:
  void SetUp() override {
    released.clear();
    SocketState::set_release(&record_release);
  }
  void TearDown() override { SocketState::set_release(nullptr); }
  SocketTable table;
};

}  // namespace

TEST_F(SocketTableTest, RoutesAreFoundByDestinationOnly) {
  SocketState s(AF_INET, true, true);
  s.remember(relay_route("192.0.2.1", 53, 4000, 7));
  auto found = s.find(*sluice::net::parse_endpoint("192.0.2.1", 53));
  ASSERT_TRUE(found);
  EXPECT_EQ(found->flow_id, 7u);
  EXPECT_FALSE(s.find(*sluice::net::parse_endpoint("192.0.2.1", 54)));
  EXPECT_TRUE(s.has_relay_routes());
}

TEST_F(SocketTableTest, RelayAddressLeadsBackToTheOriginalDestination) {
  SocketState s(AF_INET6, true, true);
  s.remember(relay_route("2001:db8::5", 123, 4001, 1));
  auto original = s.destination_for_relay(*sluice::net::parse_endpoint("127.0.0.1", 4001));
  ASSERT_TRUE(original);
  EXPECT_EQ(sluice::net::format_ip(original->ip), "2001:db8::5");
  EXPECT_FALSE(s.destination_for_relay(*sluice::net::parse_endpoint("127.0.0.1", 4002)));
}

TEST_F(SocketTableTest, TheFirstLastingVerdictStands) {
  SocketState s(AF_INET, true, true);
  s.remember(relay_route("192.0.2.1", 53, 4000, 7));
  const Route kept = s.remember(relay_route("192.0.2.1", 53, 4999, 8));
  EXPECT_EQ(kept.flow_id, 7u);
}

TEST_F(SocketTableTest, AFailModeVerdictIsReplacedByTheServicesAnswer) {
  SocketState s(AF_INET, true, false);
  Route stand_in;
  stand_in.destination = *sluice::net::parse_endpoint("192.0.2.1", 80);
  stand_in.retry_after = Clock::now() + std::chrono::seconds(5);
  s.remember(stand_in);
  ASSERT_TRUE(s.find(stand_in.destination));
  EXPECT_TRUE(s.find(stand_in.destination)->retry_after) << "marked for the caller to ask again when due";
  Route answer = stand_in;
  answer.retry_after.reset();
  answer.kind = RouteKind::block;
  EXPECT_EQ(s.remember(answer).kind, RouteKind::block);
}

TEST_F(SocketTableTest, RoutesAreBoundedAndRelayedOnesAreNeverEvicted) {
  SocketState s(AF_INET, true, true);
  s.remember(relay_route("192.0.2.1", 1, 4000, 1));
  for (std::uint16_t port = 2; port < 2 + SocketState::kMaxRoutes + 10; ++port) {
    Route r;
    r.destination = *sluice::net::parse_endpoint("192.0.2.1", port);
    s.remember(r);
  }
  EXPECT_EQ(s.routes().size(), SocketState::kMaxRoutes);
  EXPECT_TRUE(s.find(*sluice::net::parse_endpoint("192.0.2.1", 1)));
}

TEST_F(SocketTableTest, DupSharesTheStateAndTheLastCloseReleasesItsFlows) {
  auto state = std::make_shared<SocketState>(AF_INET, true, true);
  state->remember(relay_route("192.0.2.1", 53, 4000, 11));
  table.set(5, std::move(state));
  table.duplicate(5, 9);
  EXPECT_EQ(table.get(5), table.get(9));
  table.take(5);
  EXPECT_TRUE(released.empty());
  table.take(9);
  EXPECT_EQ(released, std::vector<std::uint64_t>{11});
}

TEST_F(SocketTableTest, Dup2OverATrackedDescriptorDropsWhatItHeld) {
  auto a = std::make_shared<SocketState>(AF_INET, true, true);
  a->remember(relay_route("192.0.2.1", 53, 4000, 21));
  table.set(3, std::move(a));
  table.set(4, std::make_shared<SocketState>(AF_INET, true, false));
  auto previous = table.duplicate(4, 3);
  previous.reset();
  EXPECT_EQ(released, std::vector<std::uint64_t>{21});
  EXPECT_EQ(table.get(3), table.get(4));
}

TEST_F(SocketTableTest, DescriptorsBeyondTheTableAreLeftAlone) {
  table.set(SocketTable::kMaxDescriptors, std::make_shared<SocketState>(AF_INET, true, true));
  EXPECT_EQ(table.get(SocketTable::kMaxDescriptors), nullptr);
  EXPECT_EQ(table.get(-1), nullptr);
}

TEST_F(SocketTableTest, ForEachVisitsSteeredDescriptorsOnly) {
  table.set(3, std::make_shared<SocketState>(AF_INET, true, false));
  table.set(70000, std::make_shared<SocketState>(AF_INET6, true, true));
  table.set(8, std::make_shared<SocketState>(0, false, false));
  std::vector<int> seen;
  table.for_each([&](int fd, const std::shared_ptr<SocketState>&) { seen.push_back(fd); });
  EXPECT_EQ(seen, (std::vector<int>{3, 70000}));
}

TEST_F(SocketTableTest, ConcurrentLookupsAndReplacementsStayConsistent) {
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([this, t] {
      for (int i = 0; i < 20000; ++i) {
        const int fd = (i * 7 + t) % 512;
        if (i % 3 == 0) {
          table.set(fd, std::make_shared<SocketState>(AF_INET, true, false));
        } else if (i % 3 == 1) {
          table.take(fd);
        } else if (auto s = table.get(fd)) {
          EXPECT_EQ(s->family(), AF_INET);
        }
      }
    });
  }
  for (auto& t : threads) t.join();
}
