// policy.check decides as flow.register does: the same cases through both, over the
// real control transport against the real service body, and the verdicts compared.
// The rules name this test program by a symbolic link to it, by a glob under a linked
// directory and by its real path, its user by uid and by name; flow.register sees the
// program as the OS reports it (/proc/self/exe), policy.check is asked with each of the
// paths and users an administrator might type. Then a volume cap is reached and every
// case is compared again. The hit counters count the registrations, not the checks.
#include <pwd.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <filesystem>
#include <map>
#include <thread>
#include <vector>

#include "common/platform/platform.h"
#include "control/transport/rpc_client.h"
#include "tests/integration/flow_service_fixture.h"
#include "tests/support/test_socket.h"

namespace sluice::service {
namespace {

using namespace std::chrono_literals;
using protocol::json;
using test::Endpoint;
using test::Socket;

class PolicyCheckAgreementTest : public FlowServiceTest {
 protected:
  PolicyCheckAgreementTest() {
    executable_ = platform::current_executable();
    const std::filesystem::path real(executable_);
    std::filesystem::create_symlink(real, dir.file("linked-program"));
    std::filesystem::create_directory_symlink(real.parent_path(), dir.file("linked-dir"));
    uid_ = std::to_string(::getuid());
    const passwd* pw = ::getpwuid(::getuid());
    account_ = pw ? pw->pw_name : uid_;
  }

  json add_rule(json rule) { return client().call("rule.add", {{"rule", std::move(rule)}}); }

  // What enforcement decides for this process's TCP flow to 127.0.0.1:port, from a
  // socket of its own (as the preload provider registers one).
  json registered(std::uint16_t port) {
    std::uint16_t local_port = 0;
    sockets_.push_back(ipv4_socket(true, local_port, false));
    return register_tcp(port, local_port);
  }

  json checked(const std::string& app, const std::optional<std::string>& user, std::uint16_t port) {
    json params{{"app", app}, {"destination", "127.0.0.1"}, {"port", port}, {"protocol", "tcp"}};
    if (user) params["user"] = *user;
    return client().call("policy.check", params);
  }

  // Every way an administrator may name this program and its user, against what flow.register decides.
  void expect_agreement(std::uint16_t port, const std::string& expected_action) {
    const json enforced = registered(port);
    ++registrations_[enforced["rule_id"].is_null() ? 0 : enforced["rule_id"].get<std::int64_t>()];
    EXPECT_EQ(enforced["verdict"], expected_action) << "port " << port << ": " << enforced.dump();
    const std::string linked_dir_path = dir.file("linked-dir") + "/" + std::filesystem::path(executable_).filename().string();
    for (const std::string& app : {executable_, dir.file("linked-program"), linked_dir_path}) {
      for (const std::optional<std::string>& user : {std::optional<std::string>(), std::optional(uid_), std::optional(account_)}) {
        const json check = checked(app, user, port);
        EXPECT_EQ(check["action"], enforced["verdict"]) << "port " << port << ", app " << app << ", user " << user.value_or("(caller)")
                                                        << ": check " << check.dump() << " vs enforced " << enforced.dump();
        EXPECT_EQ(check["rule_id"], enforced["rule_id"]) << "port " << port << ", app " << app << ", user " << user.value_or("(caller)");
        EXPECT_EQ(check["app"], executable_) << "the check is for the program as the OS reports it";
      }
    }
  }

  std::string executable_, uid_, account_;
  std::vector<Socket> sockets_;
  std::map<std::int64_t, int> registrations_;  // by rule id; 0 for the default action
};

TEST_F(PolicyCheckAgreementTest, CheckAndRegistrationAgreeForEveryNameOfProgramAndUser) {
  std::uint16_t cap_port = 0, app_port = 0;
  const Socket cap_destination = ipv4_socket(false, cap_port, true);
  const Socket cap_app = ipv4_socket(false, app_port, false);

  // Ports chosen in the dynamic range, away from the sockets above (which rules do not name).
  constexpr std::uint16_t kBlockedByLink = 40101, kRelayedByDirGlob = 40102, kDirectForName = 40103, kBlockedForUid = 40104,
                          kNoRule = 40105;
  const json by_link = add_rule({{"app", dir.file("linked-program")}, {"action", "block"}, {"ports", {std::to_string(kBlockedByLink)}}});
  EXPECT_EQ(by_link["rule"]["app"], executable_) << "stored as the program's real path";
  EXPECT_EQ(by_link["typed_app"], dir.file("linked-program"));
  EXPECT_NE(by_link["rule"]["comment"].get<std::string>().find("[typed " + dir.file("linked-program") + "]"), std::string::npos);
  const json by_glob = add_rule({{"app", dir.file("linked-dir") + "/**"}, {"action", "relay"},
                                 {"ports", {std::to_string(kRelayedByDirGlob), std::to_string(cap_port)}}});
  EXPECT_EQ(by_glob["rule"]["app"], std::filesystem::path(executable_).parent_path().string() + "/**");
  add_rule({{"app", executable_}, {"user", account_}, {"action", "direct"}, {"ports", {std::to_string(kDirectForName)}}});
  add_rule({{"app", "**"}, {"action", "block"}, {"ports", {std::to_string(kDirectForName)}}});
  add_rule({{"app", executable_}, {"user", uid_}, {"action", "block"}, {"ports", {std::to_string(kBlockedForUid)}}});
  add_rule({{"app", "**"}, {"action", "relay"}, {"ports", {std::to_string(kBlockedForUid)}}});

  const std::vector<std::pair<std::uint16_t, std::string>> cases = {
      {kBlockedByLink, "block"}, {kRelayedByDirGlob, "relay"}, {kDirectForName, "direct"}, {kBlockedForUid, "block"}, {kNoRule, "direct"}};
  for (const auto& [port, action] : cases) expect_agreement(port, action);

  // A volume cap reached: every flow of the program is refused, and check says so too.
  client().call("quota.set", {{"app", dir.file("linked-program")}, {"volume", {{"bytes", 1000}, {"period", "day"}, {"on_exceed", "block"}}}});
  std::uint16_t udp_local = app_port;
  const json association = client().call("flow.register", {{"protocol", "udp"}, {"destination", "127.0.0.1"}, {"port", cap_port},
                                                           {"local", "0.0.0.0"}, {"local_port", udp_local}});
  ASSERT_EQ(association["verdict"], "relay") << association.dump();
  ++registrations_[association["rule_id"].get<std::int64_t>()];
  const Endpoint relay{"127.0.0.1", association["relay_port"].get<std::uint16_t>()};
  for (int i = 0; i < 2; ++i) test::send_to(cap_app, std::string(600, 'v'), relay);
  bool reached = false;
  for (int i = 0; i < 500 && !reached; ++i) {  // at most 5 s for the sampler to count the bytes
    reached = client().call("quota.status")["caps"][0]["reached"] == true;
    if (!reached) std::this_thread::sleep_for(10ms);
  }
  ASSERT_TRUE(reached);
  for (const auto& [port, action] : cases) expect_agreement(port, port == kBlockedByLink || port == kBlockedForUid ? action : "block");

  // Each rule counted the registrations it decided, and not one of the checks.
  const json rules = client().call("rule.list")["rules"];  // held: a loop over a temporary's member would dangle
  for (const auto& rule : rules) {
    const auto it = registrations_.find(rule["id"].get<std::int64_t>());
    EXPECT_EQ(rule["hits"], it == registrations_.end() ? 0 : it->second) << rule.dump();
  }
}

}  // namespace
}  // namespace sluice::service
