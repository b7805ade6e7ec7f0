// provider/preload/exec_handoff: relayed sockets' state carried across exec.
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstring>

#include "provider/preload/exec_handoff.h"

using namespace sluice::preload;

namespace {

HandoffEntry sample_entry() {
  HandoffEntry e;
  e.fd = 7;
  e.inode = 123456789;
  e.family = AF_INET6;
  e.udp = true;
  e.original_peer = sluice::net::parse_endpoint("2001:db8::1", 53);
  Route r;
  r.kind = RouteKind::relay;
  r.destination = *sluice::net::parse_endpoint("192.0.2.9", 5353);
  r.relay = *sluice::net::parse_endpoint("::1", 41000);
  r.flow_id = 99;
  e.relay_routes.push_back(r);
  r.destination = *sluice::net::parse_endpoint("2001:db8::1", 53);
  r.flow_id = 100;
  e.relay_routes.push_back(r);
  return e;
}

}  // namespace

TEST(PreloadExecHandoff, EncodeDecodeRoundTrips) {
  HandoffEntry tcp;
  tcp.fd = 3;
  tcp.inode = 1;
  tcp.family = AF_INET;
  tcp.original_peer = sluice::net::parse_endpoint("127.0.0.1", 8080);
  const std::vector<HandoffEntry> entries{sample_entry(), tcp};
  const std::string text = encode_handoff(entries);
  EXPECT_EQ(decode_handoff(text), entries);
}

TEST(PreloadExecHandoff, DamagedEntriesAreSkippedNotFatal) {
  const std::string good = encode_handoff({sample_entry()});
  const auto decoded = decode_handoff("garbage 1/2/3/sctp/-/ 4/x/2/tcp/-/ " + good + " 5/6/2/tcp/1.2.3.4#99999/");
  ASSERT_EQ(decoded.size(), 1u);
  EXPECT_EQ(decoded[0], sample_entry());
}

TEST(PreloadExecHandoff, EnvironmentCarriesOnlyInheritableRelayedSockets) {
  SocketTable table;
  const int kept = ::socket(AF_INET, SOCK_DGRAM, 0);
  const int cloexec = ::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  const int direct_only = ::socket(AF_INET, SOCK_DGRAM, 0);
  ASSERT_GE(kept, 0);
  for (int fd : {kept, cloexec}) {
    auto s = std::make_shared<SocketState>(AF_INET, true, true);
    s->remember(sample_entry().relay_routes[0]);
    table.set(fd, s);
  }
  auto plain = std::make_shared<SocketState>(AF_INET, true, true);
  Route direct;
  direct.destination = *sluice::net::parse_endpoint("192.0.2.1", 1);
  plain->remember(direct);
  table.set(direct_only, plain);

  char old_handoff[] = "SLUICE_PROVIDER_HANDOFF=stale";
  char path[] = "PATH=/bin";
  char* env[] = {path, old_handoff, nullptr};
  const auto out = environment_for_exec(env, table);
  ASSERT_EQ(out.size(), 2u);
  EXPECT_EQ(out[0], "PATH=/bin");
  const auto entries = decode_handoff(out[1].substr(std::strlen("SLUICE_PROVIDER_HANDOFF=")));
  ASSERT_EQ(entries.size(), 1u);
  EXPECT_EQ(entries[0].fd, kept);

  // The new image takes back the socket that is still the same one...
  SocketTable fresh;
  restore_handoff(out[1].substr(std::strlen("SLUICE_PROVIDER_HANDOFF=")), fresh);
  ASSERT_NE(fresh.get(kept), nullptr);
  EXPECT_TRUE(fresh.get(kept)->has_relay_routes());
  // ...but not a descriptor that has become another socket.
  ::close(kept);
  const int other = ::socket(AF_INET, SOCK_DGRAM, 0);
  ASSERT_EQ(other, kept);
  SocketTable after_reuse;
  restore_handoff(out[1].substr(std::strlen("SLUICE_PROVIDER_HANDOFF=")), after_reuse);
  EXPECT_EQ(after_reuse.get(other), nullptr);
  for (int fd : {other, cloexec, direct_only}) ::close(fd);
}

TEST(PreloadExecHandoff, NothingToHandOverAddsNothing) {
  SocketTable table;
  char path[] = "PATH=/bin";
  char* env[] = {path, nullptr};
  EXPECT_EQ(environment_for_exec(env, table), std::vector<std::string>{"PATH=/bin"});
}
