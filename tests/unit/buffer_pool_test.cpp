// The relay's buffer pool: buffers are reused rather than reallocated, go back when
// their holder lets go, and only a bounded number wait idle.

#include "service/relay/buffer_pool.h"

#include <gtest/gtest.h>

#include <set>
#include <thread>
#include <vector>

namespace sluice::relay {
namespace {

TEST(BufferPoolTest, ABufferHasThePoolsSize) {
  BufferPool pool(4096, 4);
  Buffer buffer = pool.take();
  ASSERT_TRUE(buffer);
  EXPECT_EQ(buffer.size(), 4096u);
  buffer.data()[4095] = 'x';  // the whole size is ours to write
  EXPECT_EQ(pool.in_use(), 1u);
}

TEST(BufferPoolTest, AReturnedBufferIsReused) {
  BufferPool pool(1024, 4);
  char* first;
  {
    Buffer buffer = pool.take();
    first = buffer.data();
  }
  EXPECT_EQ(pool.in_use(), 0u);
  EXPECT_EQ(pool.idle(), 1u);
  Buffer again = pool.take();
  EXPECT_EQ(again.data(), first);
  EXPECT_EQ(pool.idle(), 0u);
}

TEST(BufferPoolTest, MovingHandsTheBufferOverOnce) {
  BufferPool pool(1024, 4);
  Buffer a = pool.take();
  char* data = a.data();
  Buffer b = std::move(a);
  EXPECT_FALSE(a);
  EXPECT_EQ(b.data(), data);
  EXPECT_EQ(pool.in_use(), 1u);
  Buffer c = pool.take();
  c = std::move(b);  // c's own buffer goes back, b's is now c's
  EXPECT_EQ(c.data(), data);
  EXPECT_EQ(pool.in_use(), 1u);
  EXPECT_EQ(pool.idle(), 1u);
  c.release();
  EXPECT_FALSE(c);
  EXPECT_EQ(pool.in_use(), 0u);
}

TEST(BufferPoolTest, OnlyTheBoundWaitsIdle) {
  BufferPool pool(256, 2);
  {
    std::vector<Buffer> many;
    for (int i = 0; i < 5; ++i) many.push_back(pool.take());
    std::set<char*> distinct;
    for (const Buffer& b : many) distinct.insert(b.data());
    EXPECT_EQ(distinct.size(), 5u);
    EXPECT_EQ(pool.in_use(), 5u);
  }
  EXPECT_EQ(pool.in_use(), 0u);
  EXPECT_EQ(pool.idle(), 2u);
}

TEST(BufferPoolTest, ThreadsTakeAndReturnConcurrently) {
  BufferPool pool(512, 8);
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&pool, t] {
      for (int i = 0; i < 1000; ++i) {
        Buffer a = pool.take();
        Buffer b = pool.take();
        a.data()[0] = static_cast<char>(t);
        b.data()[511] = static_cast<char>(i);
      }
    });
  }
  for (auto& thread : threads) thread.join();
  EXPECT_EQ(pool.in_use(), 0u);
  EXPECT_LE(pool.idle(), 8u);
}

}  // namespace
}  // namespace sluice::relay
