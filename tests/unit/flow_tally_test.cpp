// The per-user tally the flow limits read (relay::UserFlowTally, issue 17): kept by
// each flow's state changes, so a count that leaked would let a user past a limit, or
// lock them out of the relay, for good.
#include "service/relay/flow.h"

#include <gtest/gtest.h>

#include "service/relay/expected_connections.h"

namespace sluice::relay {
namespace {

std::shared_ptr<Flow> counted(const std::shared_ptr<UserFlowTally>& tally, policy::Protocol protocol) {
  auto flow = std::make_shared<Flow>();
  flow->protocol = protocol;
  flow->state.count_in(tally, protocol == policy::Protocol::udp);
  return flow;
}

struct Counts {
  std::int64_t pending, tcp, udp;
  bool operator==(const Counts&) const = default;
};
Counts counts(const UserFlowTally& t) { return {t.tcp_pending.load(), t.tcp.load(), t.udp.load()}; }
void PrintTo(const Counts& c, std::ostream* out) { *out << c.pending << " pending, " << c.tcp << " tcp, " << c.udp << " udp"; }

TEST(FlowTallyTest, ATcpFlowCountsAsPendingUntilConnectedAndAsRelayedUntilFinished) {
  auto tally = std::make_shared<UserFlowTally>();
  auto flow = counted(tally, policy::Protocol::tcp);
  EXPECT_EQ(counts(*tally), (Counts{1, 1, 0}));
  flow->state = FlowState::connecting;
  EXPECT_EQ(counts(*tally), (Counts{0, 1, 0}));
  flow->state = FlowState::open;
  EXPECT_EQ(counts(*tally), (Counts{0, 1, 0}));
  flow->state = FlowState::closed;
  EXPECT_EQ(counts(*tally), (Counts{0, 0, 0}));
  flow->state = FlowState::failed;  // a second ending counts nothing twice
  flow.reset();
  EXPECT_EQ(counts(*tally), (Counts{0, 0, 0}));
}

TEST(FlowTallyTest, AnExpiredOrClosedExpectationStopsCounting) {
  auto tally = std::make_shared<UserFlowTally>();
  ExpectedConnections expected;
  const auto now = ExpectedConnections::Clock::now();
  auto expiring = counted(tally, policy::Protocol::tcp);
  expiring->id = 1;
  auto released = counted(tally, policy::Protocol::tcp);
  released->id = 2;
  released->app_local.port = 2;
  expected.add(expiring, now);
  expected.add(released, now + std::chrono::hours(1));
  EXPECT_EQ(counts(*tally), (Counts{2, 2, 0})) << "expecting a flow again counts it once";
  expected.expire(now);
  EXPECT_EQ(expiring->state.load(), FlowState::failed);
  EXPECT_EQ(counts(*tally), (Counts{1, 1, 0}));
  EXPECT_TRUE(expected.close(2));
  EXPECT_EQ(counts(*tally), (Counts{0, 0, 0}));
}

TEST(FlowTallyTest, AFlowDroppedUnfinishedStopsCounting) {
  auto tally = std::make_shared<UserFlowTally>();
  auto tcp = counted(tally, policy::Protocol::tcp);
  auto udp = counted(tally, policy::Protocol::udp);
  udp->state = FlowState::open;
  EXPECT_EQ(counts(*tally), (Counts{1, 1, 1}));
  tcp.reset();  // a registration that failed after it was counted
  udp.reset();
  EXPECT_EQ(counts(*tally), (Counts{0, 0, 0}));
}

}  // namespace
}  // namespace sluice::relay
