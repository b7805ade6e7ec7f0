// endpoint_distrust: which control sockets a client may use, from stat facts alone.

#include "control/transport/endpoint_trust.h"

#include <gtest/gtest.h>

using sluice::transport::endpoint_distrust;
using sluice::transport::PathFacts;

namespace {

constexpr std::uint32_t kCaller = 1000;
constexpr std::uint32_t kOther = 1001;

PathFacts directory(std::uint32_t owner, std::uint32_t mode) { return {true, true, false, owner, mode}; }
PathFacts socket(std::uint32_t owner) { return {true, false, true, owner, 0666}; }
const PathFacts kAbsent{};

bool trusted(const PathFacts& dir, const PathFacts& sock, std::uint32_t caller = kCaller) {
  return !endpoint_distrust("/x/control.sock", dir, sock, caller).has_value();
}

TEST(EndpointTrust, TheMachinesSocketInARootDirectoryIsTrusted) {
  EXPECT_TRUE(trusted(directory(0, 0755), socket(0)));
  EXPECT_TRUE(trusted(directory(0, 0755), socket(0), 0));
}

TEST(EndpointTrust, TheCallersOwnPrivateDirectoryAndSocketAreTrusted) {
  EXPECT_TRUE(trusted(directory(kCaller, 0700), socket(kCaller)));
  EXPECT_TRUE(trusted(directory(kCaller, 0755), socket(kCaller)));
}

TEST(EndpointTrust, ADirectoryOfAnotherUserIsRefusedWhoeverOwnsTheSocket) {
  // /tmp/sluice-1000 created first by uid 1001, even 0700 and even holding a root socket.
  EXPECT_FALSE(trusted(directory(kOther, 0700), socket(kOther)));
  EXPECT_FALSE(trusted(directory(kOther, 0755), socket(0)));
  EXPECT_FALSE(trusted(directory(kOther, 0700), kAbsent));
  const auto why = endpoint_distrust("/tmp/sluice-1000/control.sock", directory(kOther, 0700), socket(kOther), kCaller);
  ASSERT_TRUE(why.has_value());
  EXPECT_NE(why->find("/tmp/sluice-1000"), std::string::npos) << *why;
  EXPECT_NE(why->find("uid 1001"), std::string::npos) << *why;
}

TEST(EndpointTrust, ADirectoryOthersMayWriteIsRefusedUnlessSticky) {
  EXPECT_FALSE(trusted(directory(kCaller, 0777), socket(kCaller)));
  EXPECT_FALSE(trusted(directory(0, 0775), socket(0)));
  EXPECT_FALSE(trusted(directory(0, 0757), socket(0)));
  EXPECT_TRUE(trusted(directory(0, 01777), socket(kCaller)));  // /tmp, the caller's own socket
}

TEST(EndpointTrust, InAStickyTmpASocketOfAnotherUserIsRefused) {
  EXPECT_FALSE(trusted(directory(0, 01777), socket(kOther)));
  const auto why = endpoint_distrust("/tmp/control.sock", directory(0, 01777), socket(kOther), kCaller);
  ASSERT_TRUE(why.has_value());
  EXPECT_NE(why->find("planted"), std::string::npos) << *why;
  // Root trusts only its own: a user's socket is not the machine's service.
  EXPECT_FALSE(trusted(directory(0, 01777), socket(kCaller), 0));
}

TEST(EndpointTrust, NoSocketYetLeavesTheDirectoryToJudge) {
  EXPECT_TRUE(trusted(directory(0, 0755), kAbsent));
  EXPECT_FALSE(trusted(directory(kOther, 0755), kAbsent));
}

TEST(EndpointTrust, SomethingThatIsNotASocketOrNoDirectoryIsRefused) {
  EXPECT_FALSE(trusted(directory(0, 0755), PathFacts{true, false, false, 0, 0644}));
  EXPECT_FALSE(trusted(kAbsent, socket(0)));
  EXPECT_FALSE(trusted(PathFacts{true, false, false, 0, 0644}, socket(0)));
}

}  // namespace
