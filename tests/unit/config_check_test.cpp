#include "service/process/config_check.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <sstream>

#include "common/platform/platform.h"
#include "service/store/database.h"
#include "service/store/migrations.h"
#include "tests/support/temp_dir.h"

namespace sluice::service {
namespace {

namespace fs = std::filesystem;

class ConfigCheckTest : public ::testing::Test {
 protected:
  ServiceConfig config() const {
    ServiceConfig c;
    c.state_dir = dir_.file("state");
    c.control_endpoint = dir_.file("control.sock");
    return c;
  }
  ExitCode check() {
    out_.str("");
    err_.str("");
    return check_configuration(config(), out_, err_);
  }
  // Spelled as the check spells it (a backslash on Windows).
  std::string database() const { return platform::join_path(dir_.file("state"), "sluice.db"); }

  test::TempDir dir_;
  std::ostringstream out_, err_;
};

TEST_F(ConfigCheckTest, AStateDirectoryNotYetMadeIsFineAndIsNotMade) {
  EXPECT_EQ(check(), ExitCode::ok) << err_.str();
  EXPECT_NE(out_.str().find("a start creates it"), std::string::npos) << out_.str();
  EXPECT_NE(out_.str().find("configuration ok"), std::string::npos);
  EXPECT_FALSE(fs::exists(dir_.file("state"))) << "the check creates nothing";
  EXPECT_FALSE(fs::exists(dir_.file("control.sock"))) << "the check binds nothing";
}

TEST_F(ConfigCheckTest, AFileWhereTheDirectoryShouldBeIsAStateDirectoryProblem) {
  std::ofstream(dir_.file("state")) << "x";
  EXPECT_EQ(check(), ExitCode::state_dir);
  EXPECT_NE(err_.str().find("not a directory"), std::string::npos) << err_.str();
}

TEST_F(ConfigCheckTest, ACurrentDatabaseIsReadAndLeftAsItWas) {
  fs::create_directories(dir_.file("state"));
  {
    store::Database db(database());
    store::migrate(db, schema::embedded_migrations());
  }
  const auto before = fs::last_write_time(database());
  const auto size = fs::file_size(database());
  EXPECT_EQ(check(), ExitCode::ok) << err_.str();
  EXPECT_NE(out_.str().find("(current), 0 rules"), std::string::npos) << out_.str();
  EXPECT_EQ(fs::last_write_time(database()), before);
  EXPECT_EQ(fs::file_size(database()), size);
  EXPECT_FALSE(fs::exists(dir_.file("state") + "/sluiced.lock")) << "the check takes no lock";
  EXPECT_FALSE(fs::exists(dir_.file("state") + "/sluiced.log")) << "the check opens no log";
}

TEST_F(ConfigCheckTest, AnOlderDatabaseWouldBeMigratedButIsNot) {
  fs::create_directories(dir_.file("state"));
  { store::Database db(database()); }  // level 0
  EXPECT_EQ(check(), ExitCode::ok) << err_.str();
  EXPECT_NE(out_.str().find("schema level 0; a start migrates it"), std::string::npos) << out_.str();
  store::Database db(database(), store::Database::Access::read_only);
  EXPECT_EQ(db.user_version(), 0);
}

TEST_F(ConfigCheckTest, ANewerOrBrokenDatabaseIsADatabaseProblem) {
  fs::create_directories(dir_.file("state"));
  {
    store::Database db(database());
    db.exec("PRAGMA user_version=100000");
  }
  EXPECT_EQ(check(), ExitCode::database);
  EXPECT_NE(err_.str().find("newer than this sluiced knows"), std::string::npos) << err_.str();

  fs::remove(database());
  std::ofstream(database(), std::ios::binary) << std::string(4096, 'x');
  EXPECT_EQ(check(), ExitCode::database);
  EXPECT_NE(err_.str().find(database()), std::string::npos) << err_.str();
  EXPECT_NE(err_.str().find("not a database"), std::string::npos) << err_.str();
}

}  // namespace
}  // namespace sluice::service
