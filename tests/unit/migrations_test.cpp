#include "service/store/migrations.h"

#include <gtest/gtest.h>

#include "tests/support/temp_dir.h"

namespace sluice::store {
namespace {

const schema::Migration kTwoLevels[] = {
    {1, "one", "CREATE TABLE a (x INTEGER);"},
    {2, "two", "CREATE TABLE b (y INTEGER); INSERT INTO a VALUES (1);"},
};

int count(Database& db, const char* table) {
  auto s = db.prepare(std::string("SELECT count(*) FROM ") + table);
  s.step();
  return static_cast<int>(s.column_int64(0));
}

TEST(MigrationsTest, AppliesEveryLevelInOrderAndRecordsIt) {
  Database db(":memory:");
  EXPECT_EQ(migrate(db, kTwoLevels), 2);
  EXPECT_EQ(db.user_version(), 2);
  EXPECT_EQ(count(db, "a"), 1);
  EXPECT_EQ(count(db, "b"), 0);
}

TEST(MigrationsTest, IsIdempotentAndOnlyRunsNewLevels) {
  Database db(":memory:");
  migrate(db, std::span(kTwoLevels, 1));
  EXPECT_EQ(db.user_version(), 1);
  migrate(db, kTwoLevels);
  migrate(db, kTwoLevels);
  EXPECT_EQ(count(db, "a"), 1) << "level 2's insert ran exactly once";
}

TEST(MigrationsTest, AFailingLevelLeavesTheDatabaseUntouched) {
  const schema::Migration broken[] = {
      {1, "one", "CREATE TABLE a (x INTEGER);"},
      {2, "two", "CREATE TABLE b (y INTEGER); THIS IS NOT SQL;"},
  };
  Database db(":memory:");
  try {
    migrate(db, broken);
    FAIL();
  } catch (const StoreError& e) {
    EXPECT_NE(std::string(e.what()).find("level 2 (two)"), std::string::npos) << e.what();
  }
  EXPECT_EQ(db.user_version(), 0);
  EXPECT_THROW(db.exec("SELECT * FROM a"), StoreError) << "level 1 was rolled back with level 2";
}

TEST(MigrationsTest, RefusesADatabaseFromANewerRelease) {
  Database db(":memory:");
  db.exec("PRAGMA user_version=9");
  try {
    migrate(db, kTwoLevels);
    FAIL();
  } catch (const StoreError& e) {
    EXPECT_NE(std::string(e.what()).find("level 9"), std::string::npos) << e.what();
  }
  EXPECT_EQ(db.user_version(), 9);
}

TEST(MigrationsTest, EmbeddedSchemaIsConsecutiveAndAppliesToAFreshFile) {
  const auto migrations = schema::embedded_migrations();
  ASSERT_FALSE(migrations.empty());
  for (std::size_t i = 0; i < migrations.size(); ++i) EXPECT_EQ(migrations[i].level, static_cast<int>(i + 1));
  test::TempDir dir;
  Database db(dir.file("sluice.db"));
  EXPECT_EQ(migrate(db, migrations), migrations.back().level);
  auto s = db.prepare("SELECT value FROM settings WHERE key = 'default_action'");
  ASSERT_TRUE(s.step());
  EXPECT_EQ(s.column_text(0), "direct");
}

// A database from before level 3 (plain INTEGER PRIMARY KEY, where a new row got
// max(id) + 1): upgraded, its rules keep their ids, and no id the audit trail names,
// a removed rule's included, is handed out again.
TEST(MigrationsTest, Level3KeepsRuleIdsAndStartsAboveEveryIdEverUsed) {
  const auto migrations = schema::embedded_migrations();
  ASSERT_GE(migrations.size(), 3u);
  Database db(":memory:");
  migrate(db, migrations.subspan(0, 2));
  db.exec("INSERT INTO rules (id, position, app, protocol, action, created_at, updated_at) "
          "VALUES (1, 1, '/a', 'any', 'relay', 't', 't'), (2, 2, '/b', 'any', 'block', 't', 't')");
  db.exec(R"(INSERT INTO audit (at, action, detail) VALUES ('t', 'rule.add', '{"id": 7, "app": "/removed"}'),
                                                              ('t', 'rule.remove', '{"id": 7}'))");
  migrate(db, migrations);
  auto kept = db.prepare("SELECT app FROM rules WHERE id = 2");
  ASSERT_TRUE(kept.step());
  EXPECT_EQ(kept.column_text(0), "/b");
  db.exec("INSERT INTO rules (position, app, protocol, action, created_at, updated_at) VALUES (3, '/c', 'any', 'relay', 't', 't')");
  EXPECT_EQ(db.last_insert_rowid(), 8) << "above rule 7, which the audit trail remembers";
  db.exec("DELETE FROM rules WHERE id = 8");
  db.exec("INSERT INTO rules (position, app, protocol, action, created_at, updated_at) VALUES (3, '/d', 'any', 'relay', 't', 't')");
  EXPECT_EQ(db.last_insert_rowid(), 9);
}

}  // namespace
}  // namespace sluice::store
