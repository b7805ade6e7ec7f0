// The real service body (state dir, log, database, control plane) run in-process
// the way the daemon and the Windows service host run it.
#include "service/process/service_app.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "common/version.h"
#include "control/transport/rpc_client.h"
#include "service/store/database.h"
#include "tests/support/running_service.h"
#include "tests/support/temp_dir.h"

namespace sluice::service {
namespace {

using namespace std::chrono_literals;
using test::RunningService;

class ServiceAppTest : public ::testing::Test {
 protected:
  ServiceConfig config() {
    ServiceConfig c;
    c.state_dir = dir.file("state");
    c.control_endpoint = test::unique_endpoint(dir);
    c.log_level = spdlog::level::warn;
    return c;
  }
  test::TempDir dir;
};

TEST_F(ServiceAppTest, StartsAnswersStatusAndStopsCleanly) {
  ServiceConfig c = config();
  RunningService service(c);
  transport::RpcClient client(c.control_endpoint, 5s, "test");
  EXPECT_EQ(client.hello()["version"], version());
  auto status = client.call("service.status");
  EXPECT_EQ(status["version"], version());
  EXPECT_GT(status["pid"].get<std::int64_t>(), 0);
  EXPECT_GE(status["uptime_seconds"].get<std::int64_t>(), 0);
  EXPECT_EQ(status["database"]["path"], c.state_dir + (c.state_dir.find('\\') != std::string::npos ? "\\" : "/") + "sluice.db");
  EXPECT_GE(status["database"]["schema_level"].get<int>(), 1);
  EXPECT_EQ(status["control"]["endpoint"], c.control_endpoint);
  EXPECT_EQ(service.stop(), ExitCode::ok);
  EXPECT_THROW(transport::RpcClient(c.control_endpoint, 1s, "test"), transport::TransportError)
      << "nothing listens after a stop";
}

TEST_F(ServiceAppTest, KeepsItsDatabaseAcrossRestarts) {
  ServiceConfig c = config();
  std::string instance;
  {
    RunningService service(c);
    instance = transport::RpcClient(c.control_endpoint, 5s, "test").call("service.status")["instance_id"];
  }
  RunningService again(c);
  EXPECT_EQ(transport::RpcClient(c.control_endpoint, 5s, "test").call("service.status")["instance_id"], instance);
}

TEST_F(ServiceAppTest, RefusesAnOldProtocolMajor) {
  ServiceConfig c = config();
  RunningService service(c);
  auto connection = transport::connect(c.control_endpoint, 5s);
  transport::RpcClient client(c.control_endpoint, 5s, "test");
  try {
    client.call("sluice.hello", {{"protocol", {{"major", kProtocolMajor + 1}, {"minor", 0}}}});
    FAIL();
  } catch (const protocol::RpcError& e) {
    EXPECT_EQ(e.code(), protocol::kProtocolMismatch);
  }
  // Majors whose low 32 bits read as this one are other majors all the same.
  for (const std::int64_t major : {(std::int64_t{1} << 32) + kProtocolMajor, std::int64_t{-1}}) {
    try {
      client.call("sluice.hello", {{"protocol", {{"major", major}, {"minor", 0}}}});
      ADD_FAILURE() << "major " << major << " was accepted";
    } catch (const protocol::RpcError& e) {
      EXPECT_EQ(e.code(), protocol::kProtocolMismatch) << major;
      EXPECT_NE(std::string(e.what()).find("protocol " + std::to_string(major) + ".x"), std::string::npos) << e.what();
    }
  }
}

TEST_F(ServiceAppTest, ASecondInstanceOnTheSameEndpointExitsAlreadyRunning) {
  ServiceConfig c = config();
  RunningService first(c);
  ServiceConfig other = c;
  other.state_dir = dir.file("other-state");
  RunningService second(other);
  EXPECT_EQ(second.exit_code(), ExitCode::already_running);
  transport::RpcClient client(c.control_endpoint, 5s, "test");
  EXPECT_EQ(client.call("service.status")["state_dir"], c.state_dir) << "the first instance still answers";
}

TEST_F(ServiceAppTest, ASecondInstanceOnTheSameStateDirectoryExitsAlreadyRunning) {
  ServiceConfig c = config();
  RunningService first(c);
  ServiceConfig other = c;
  test::TempDir other_dir;
  other.control_endpoint = test::unique_endpoint(other_dir);
  ASSERT_NE(other.control_endpoint, c.control_endpoint);
  RunningService second(other);  // returns once the second is ready or has failed
  // Asserted first: a second instance that did start would never end on its own.
  ASSERT_THROW(transport::RpcClient(other.control_endpoint, 1s, "test").call("service.status"), transport::TransportError)
      << "the second must not serve its endpoint";
  EXPECT_EQ(second.exit_code(), ExitCode::already_running) << "one database, one log: one sluiced";
  transport::RpcClient client(c.control_endpoint, 5s, "test");
  EXPECT_EQ(client.call("service.status")["state_dir"], c.state_dir) << "the first instance still answers";
}

TEST_F(ServiceAppTest, TheStateDirectoryIsFreeAgainOnceTheFirstInstanceStops) {
  ServiceConfig c = config();
  { RunningService first(c); }
  RunningService again(c);
  transport::RpcClient client(c.control_endpoint, 5s, "test");
  EXPECT_EQ(client.call("service.status")["state_dir"], c.state_dir);
}

TEST_F(ServiceAppTest, AStateDirThatIsAFileIsAStateDirError) {
  ServiceConfig c = config();
  std::ofstream(c.state_dir) << "not a directory";
  RunningService service(c);
  EXPECT_EQ(service.exit_code(), ExitCode::state_dir);
}

TEST_F(ServiceAppTest, ADatabaseFromANewerReleaseIsADatabaseError) {
  ServiceConfig c = config();
  std::filesystem::create_directories(c.state_dir);
  {
    store::Database db(c.state_dir + "/sluice.db");
    db.exec("PRAGMA user_version=999");
  }
  RunningService service(c);
  EXPECT_EQ(service.exit_code(), ExitCode::database);
}

}  // namespace
}  // namespace sluice::service
