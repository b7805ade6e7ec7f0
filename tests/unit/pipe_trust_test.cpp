// control/transport/pipe_trust.cpp: which process a Windows client accepts as the
// server of a control pipe. The facts are what win_pipe_server.cpp reads from the
// system; here they are made up, so every combination is covered on every platform.

#include "control/transport/pipe_trust.h"

#include <gtest/gtest.h>

namespace sluice::transport {
namespace {

constexpr const char* kUser = "S-1-5-21-1-2-3-1001";
constexpr const char* kOtherUser = "S-1-5-21-1-2-3-1002";

PipeServerFacts facts(const char* endpoint, bool default_name, const char* server_sid, const char* caller_sid) {
  PipeServerFacts f;
  f.endpoint = endpoint;
  f.default_name = default_name;
  f.pid = 4242;
  f.sid = server_sid;
  f.caller_sid = caller_sid;
  return f;
}

TEST(PipeTrustTest, LocalSystemIsTrustedOnTheDefaultPipe) {
  const auto f = facts("\\\\.\\pipe\\sluice", true, "S-1-5-18", kUser);
  EXPECT_TRUE(judge_pipe_server(f).trusted);
  EXPECT_FALSE(needs_service_check(f));
}

TEST(PipeTrustTest, TheCallersOwnAccountIsRefusedOnTheDefaultPipe) {
  auto f = facts("\\\\.\\pipe\\sluice", true, kUser, kUser);
  EXPECT_TRUE(needs_service_check(f));
  f.is_service = false;
  f.account = "HOST\\alice";
  const PipeTrust trust = judge_pipe_server(f);
  EXPECT_FALSE(trust.trusted);
  EXPECT_EQ(trust.reason,
            "\\\\.\\pipe\\sluice is served by pid 4242 running as HOST\\alice, not LocalSystem, and not the 'sluice' "
            "service: refusing");
}

TEST(PipeTrustTest, AnotherUserIsRefusedOnTheDefaultPipeAndNamedBySidWithoutAnAccount) {
  auto f = facts("\\\\.\\pipe\\sluice", true, kOtherUser, kUser);
  f.is_service = false;
  const PipeTrust trust = judge_pipe_server(f);
  EXPECT_FALSE(trust.trusted);
  EXPECT_NE(trust.reason.find("pid 4242 running as S-1-5-21-1-2-3-1002, not LocalSystem"), std::string::npos)
      << trust.reason;
}

TEST(PipeTrustTest, TheProcessTheScmRunsAsTheServiceIsTrustedWhateverItsAccount) {
  // A standard user cannot open a LocalSystem token; under Wine services run as the
  // prefix's user. The SCM's word on the pid settles it.
  auto f = facts("\\\\.\\pipe\\sluice", true, "", kUser);
  f.token_error = "OpenProcess: Access is denied.";
  ASSERT_TRUE(needs_service_check(f));
  f.is_service = true;
  EXPECT_TRUE(judge_pipe_server(f).trusted);
  f.is_service = false;
  const PipeTrust refused = judge_pipe_server(f);
  EXPECT_FALSE(refused.trusted);
  EXPECT_NE(refused.reason.find("whose account cannot be read (OpenProcess: Access is denied.)"), std::string::npos)
      << refused.reason;
}

TEST(PipeTrustTest, AnUnknownPidIsNeverTheService) {
  auto f = facts("\\\\.\\pipe\\sluice", true, "", kUser);
  f.pid = 0;
  EXPECT_FALSE(needs_service_check(f));
  f.is_service = true;  // even if a caller set it
  const PipeTrust trust = judge_pipe_server(f);
  EXPECT_FALSE(trust.trusted);
  EXPECT_NE(trust.reason.find("an unidentified process"), std::string::npos) << trust.reason;
}

TEST(PipeTrustTest, AChosenPipeTrustsTheCallersOwnAccountAndLocalSystem) {
  const auto own = facts("\\\\.\\pipe\\sluice-test-1", false, kUser, kUser);
  EXPECT_TRUE(judge_pipe_server(own).trusted);
  EXPECT_FALSE(needs_service_check(own));
  EXPECT_TRUE(judge_pipe_server(facts("\\\\.\\pipe\\sluice-test-1", false, "S-1-5-18", kUser)).trusted);
}

TEST(PipeTrustTest, AChosenPipeRefusesAnotherUser) {
  auto f = facts("\\\\.\\pipe\\mine", false, kOtherUser, kUser);
  f.is_service = false;
  const PipeTrust trust = judge_pipe_server(f);
  EXPECT_FALSE(trust.trusted);
  EXPECT_NE(trust.reason.find("neither LocalSystem nor the caller's own account"), std::string::npos) << trust.reason;
}

TEST(PipeTrustTest, AnUnreadableCallerIsNobodysOwnAccount) {
  // Two empty SIDs must not match.
  auto f = facts("\\\\.\\pipe\\mine", false, "", "");
  f.is_service = false;
  EXPECT_FALSE(judge_pipe_server(f).trusted);
}

TEST(PipeTrustTest, PipeNamesCompareWithoutCase) {
  EXPECT_TRUE(same_pipe_name("\\\\.\\PIPE\\Sluice", "\\\\.\\pipe\\sluice"));
  EXPECT_FALSE(same_pipe_name("\\\\.\\pipe\\sluice2", "\\\\.\\pipe\\sluice"));
  EXPECT_FALSE(same_pipe_name("\\\\.\\pipe\\sluic", "\\\\.\\pipe\\sluice"));
}

}  // namespace
}  // namespace sluice::transport
