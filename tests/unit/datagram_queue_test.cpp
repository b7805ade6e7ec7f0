// DatagramQueue: the bounds a UDP association's waiting datagrams are held to, in
// datagrams, in bytes, and in one user's bytes across associations (issue 17).
#include "service/relay/datagram_queue.h"

#include <gtest/gtest.h>

#include <string>

namespace sluice::relay {
namespace {

const std::string kDatagram(1000, 'x');

TEST(DatagramQueueTest, RefusesPastItsDatagramBound) {
  DatagramQueue queue;
  queue.limit(QueueBounds{3, 1 << 20}, nullptr);
  for (int i = 0; i < 3; ++i) EXPECT_TRUE(queue.push_back(kDatagram.data(), kDatagram.size(), false));
  EXPECT_FALSE(queue.push_back(kDatagram.data(), 1, false));
  EXPECT_EQ(queue.size(), 3u);
}

TEST(DatagramQueueTest, RefusesPastItsByteBound) {
  DatagramQueue queue;
  queue.limit(QueueBounds{512, 2500}, nullptr);
  EXPECT_TRUE(queue.push_back(kDatagram.data(), kDatagram.size(), false));
  EXPECT_TRUE(queue.push_back(kDatagram.data(), kDatagram.size(), false));
  EXPECT_FALSE(queue.push_back(kDatagram.data(), kDatagram.size(), false));
  EXPECT_TRUE(queue.push_back(kDatagram.data(), 500, false));  // exactly to the bound
  EXPECT_EQ(queue.bytes(), 2500u);
  queue.pop_front();
  EXPECT_EQ(queue.bytes(), 1500u);
  EXPECT_TRUE(queue.push_back(kDatagram.data(), kDatagram.size(), true));
}

TEST(DatagramQueueTest, AUsersQueuesShareOneAllowance) {
  auto user = std::make_shared<UserQueuedBytes>(2000);
  {
    DatagramQueue first, second;
    first.limit(QueueBounds{}, user);
    second.limit(QueueBounds{}, user);
    EXPECT_TRUE(first.push_back(kDatagram.data(), kDatagram.size(), false));
    EXPECT_TRUE(second.push_back(kDatagram.data(), kDatagram.size(), false));
    EXPECT_FALSE(first.push_back(kDatagram.data(), 1, false));
    EXPECT_FALSE(second.push_back(kDatagram.data(), 1, false));
    EXPECT_EQ(user->held(), 2000u);
    second.pop_front();
    EXPECT_EQ(user->held(), 1000u);
    EXPECT_TRUE(first.push_back(kDatagram.data(), kDatagram.size(), false));
  }
  EXPECT_EQ(user->held(), 0u) << "a queue that goes gives its bytes back";
}

TEST(DatagramQueueTest, APutBackDatagramIsKeptAndCounted) {
  auto user = std::make_shared<UserQueuedBytes>(1500);
  DatagramQueue queue;
  queue.limit(QueueBounds{1, 1000}, user);
  EXPECT_TRUE(queue.push_back(kDatagram.data(), kDatagram.size(), false));
  queue.push_front(kDatagram.data(), kDatagram.size(), true);  // past every bound
  EXPECT_EQ(queue.size(), 2u);
  EXPECT_TRUE(queue.front().paid);
  EXPECT_EQ(user->held(), 2000u);
  EXPECT_FALSE(queue.push_back(kDatagram.data(), 1, false));
  queue.pop_front();
  queue.pop_front();
  EXPECT_EQ(user->held(), 0u);
}

TEST(DatagramQueueTest, AnAllowanceRefusesWhatWouldOverflowIt) {
  UserQueuedBytes user(100);
  EXPECT_FALSE(user.take(101));
  EXPECT_TRUE(user.take(100));
  EXPECT_FALSE(user.take(1));
  EXPECT_FALSE(user.take(static_cast<std::size_t>(-1)));
  EXPECT_EQ(user.held(), 100u);
}

}  // namespace
}  // namespace sluice::relay
