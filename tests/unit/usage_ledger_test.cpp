#include "service/flows/usage_ledger.h"

#include <gtest/gtest.h>

#include <chrono>
#include <thread>

#include "schema/embedded_migrations.h"
#include "service/store/migrations.h"

namespace sluice::service {
namespace {

TEST(UsageLedgerTest, CountsPerAppAndDirectionUntilTaken) {
  UsageLedger ledger;
  ledger.record("/bin/a", Direction::up, 100, 1);
  ledger.record("/bin/a", Direction::down, 50, 2);
  ledger.record("/bin/a", Direction::up, 1, 1);
  ledger.record_drop("/bin/b", 3);
  EXPECT_EQ(ledger.pending_bytes("/bin/a"), 151u);
  auto deltas = ledger.take("2026-11-22");
  ASSERT_EQ(deltas.size(), 2u);
  EXPECT_EQ(deltas[0].app, "/bin/a");
  EXPECT_EQ(deltas[0].day, "2026-11-22");
  EXPECT_EQ(deltas[0].bytes_up, 101u);
  EXPECT_EQ(deltas[0].packets_up, 2u);
  EXPECT_EQ(deltas[0].bytes_down, 50u);
  EXPECT_EQ(deltas[1].dropped, 3u);
  EXPECT_TRUE(ledger.take("2026-11-22").empty()) << "taking resets";
}

TEST(UsageFlusherTest, FlushWritesAndStopWritesTheRest) {
  store::Database db(":memory:");
  store::migrate(db, schema::embedded_migrations());
  store::PolicyStore policy_store(db);
  UsageLedger ledger;
  {
    // An interval far longer than the test: only explicit flushes and the stop write.
    UsageFlusher flusher(ledger, policy_store, std::chrono::hours(1));
    ledger.record("/bin/a", Direction::up, 10, 1);
    flusher.flush();
    EXPECT_EQ(policy_store.usage(std::nullopt, std::nullopt, false).at(0).bytes_up, 10u);
    ledger.record("/bin/a", Direction::up, 5, 1);
  }
  EXPECT_EQ(policy_store.usage(std::nullopt, std::nullopt, false).at(0).bytes_up, 15u) << "nothing lost at shutdown";
}

TEST(UsageFlusherTest, EachFlushFirstCollectsWhatWasCountedElsewhere) {
  store::Database db(":memory:");
  store::migrate(db, schema::embedded_migrations());
  store::PolicyStore policy_store(db);
  UsageLedger ledger;
  UsageFlusher flusher(ledger, policy_store, std::chrono::hours(1));
  int collected = 0;
  flusher.set_collector([&] {
    ++collected;
    ledger.record("/bin/a", Direction::down, 3, 1);
  });
  flusher.flush();
  EXPECT_EQ(collected, 1);
  EXPECT_EQ(policy_store.usage(std::nullopt, std::nullopt, false).at(0).bytes_down, 3u) << "collected before the write";
  flusher.set_collector({});
  flusher.flush();
  EXPECT_EQ(collected, 1) << "unset: not called again";
}

TEST(UsageFlusherTest, ANewIntervalTakesEffectAtOnce) {
  store::Database db(":memory:");
  store::migrate(db, schema::embedded_migrations());
  store::PolicyStore policy_store(db);
  UsageLedger ledger;
  UsageFlusher flusher(ledger, policy_store, std::chrono::hours(1));
  ledger.record("/bin/a", Direction::down, 7, 1);
  flusher.set_interval(std::chrono::milliseconds(20));
  EXPECT_EQ(flusher.interval(), std::chrono::milliseconds(20));
  // Without the change the first flush would be an hour away; the bound is generous.
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
  while (policy_store.usage(std::nullopt, std::nullopt, false).empty() && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  const auto usage = policy_store.usage(std::nullopt, std::nullopt, false);
  ASSERT_EQ(usage.size(), 1u) << "the flusher kept waiting for the old interval";
  EXPECT_EQ(usage[0].bytes_down, 7u);
}

TEST(UtcDayTest, IsAnIsoDate) {
  const std::string day = utc_day();
  ASSERT_EQ(day.size(), 10u);
  EXPECT_EQ(day[4], '-');
  EXPECT_EQ(day[7], '-');
}

}  // namespace
}  // namespace sluice::service
