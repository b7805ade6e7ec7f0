#include "service/store/database.h"

#include <gtest/gtest.h>

#include <filesystem>

#include "tests/support/temp_dir.h"

namespace sluice::store {
namespace {

TEST(DatabaseTest, OpensAFileInWalModeWithForeignKeys) {
  test::TempDir dir;
  Database db(dir.file("t.db"));
  EXPECT_EQ(db.journal_mode(), "wal");
  auto s = db.prepare("PRAGMA foreign_keys");
  ASSERT_TRUE(s.step());
  EXPECT_EQ(s.column_int64(0), 1);
}

TEST(DatabaseTest, ReadOnlyReadsAndNeverCreatesOrWrites) {
  test::TempDir dir;
  EXPECT_THROW(Database(dir.file("absent.db"), Database::Access::read_only), StoreError) << "never creates";
  EXPECT_FALSE(std::filesystem::exists(dir.file("absent.db")));
  {
    Database db(dir.file("t.db"));
    db.exec("CREATE TABLE t (v INTEGER); INSERT INTO t VALUES (7); PRAGMA user_version=3");
  }
  Database reader(dir.file("t.db"), Database::Access::read_only);
  EXPECT_EQ(reader.user_version(), 3);
  auto s = reader.prepare("SELECT v FROM t");
  ASSERT_TRUE(s.step());
  EXPECT_EQ(s.column_int64(0), 7);
  EXPECT_THROW(reader.exec("INSERT INTO t VALUES (8)"), StoreError);
  EXPECT_THROW(reader.exec("PRAGMA user_version=4"), StoreError);
}

TEST(DatabaseTest, BindsAndReadsEveryType) {
  Database db(":memory:");
  db.exec("CREATE TABLE t (i INTEGER, r REAL, s TEXT, n TEXT)");
  db.prepare("INSERT INTO t VALUES (?, ?, ?, ?)").bind(1, std::int64_t{1} << 40).bind(2, 2.5).bind(3, "héllo").bind_null(4).step();
  auto s = db.prepare("SELECT i, r, s, n FROM t");
  ASSERT_TRUE(s.step());
  EXPECT_EQ(s.column_int64(0), std::int64_t{1} << 40);
  EXPECT_DOUBLE_EQ(s.column_double(1), 2.5);
  EXPECT_EQ(s.column_text(2), "héllo");
  EXPECT_TRUE(s.column_is_null(3));
  EXPECT_FALSE(s.step());
}

TEST(DatabaseTest, TransactionRollsBackWhenTheWorkThrows) {
  Database db(":memory:");
  db.exec("CREATE TABLE t (v INTEGER)");
  EXPECT_THROW(db.transaction([&] {
    db.exec("INSERT INTO t VALUES (1)");
    throw std::runtime_error("abort");
  }),
               std::runtime_error);
  auto s = db.prepare("SELECT count(*) FROM t");
  s.step();
  EXPECT_EQ(s.column_int64(0), 0);
  db.transaction([&] { db.exec("INSERT INTO t VALUES (1)"); });
  s.reset();
  s.step();
  EXPECT_EQ(s.column_int64(0), 1);
}

TEST(DatabaseTest, ErrorsCarryTheSqliteMessage) {
  Database db(":memory:");
  try {
    db.exec("SELECT * FROM missing_table");
    FAIL();
  } catch (const StoreError& e) {
    EXPECT_NE(std::string(e.what()).find("missing_table"), std::string::npos);
  }
  EXPECT_THROW(db.prepare("NOT SQL"), StoreError);
}

TEST(DatabaseTest, AnUnopenablePathNamesThePath) {
  test::TempDir dir;
  const std::string path = dir.file("no-such-dir/t.db");
  try {
    Database db(path);
    FAIL();
  } catch (const StoreError& e) {
    EXPECT_NE(std::string(e.what()).find(path), std::string::npos);
  }
}

}  // namespace
}  // namespace sluice::store
