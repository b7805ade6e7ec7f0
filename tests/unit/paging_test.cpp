// Paged answers (control/protocol/paging.h): pages bounded in rows and bytes, and a
// client walk that collects every page and cannot be made to loop.
#include "control/protocol/paging.h"

#include <gtest/gtest.h>

namespace sluice::protocol {
namespace {

TEST(PageRowsTest, StopsAtTheRowLimit) {
  PageRows page(2);
  EXPECT_TRUE(page.add(1));
  EXPECT_TRUE(page.add(2));
  EXPECT_FALSE(page.more());
  EXPECT_FALSE(page.add(3));
  EXPECT_TRUE(page.more());
  EXPECT_EQ(page.take(), json::array({1, 2}));
}

TEST(PageRowsTest, StopsBeforeTheByteBudgetButNeverComesBackEmpty) {
  const std::string long_path(600, 'x');
  PageRows page(1000, 1000);
  EXPECT_TRUE(page.add(long_path)) << "the first row goes in, whatever its size";
  EXPECT_FALSE(page.add(long_path)) << "a second would pass 1000 bytes";
  EXPECT_TRUE(page.more());
  EXPECT_EQ(page.size(), 1u);

  PageRows huge(1000, 10);
  EXPECT_TRUE(huge.add(long_path));
  EXPECT_EQ(huge.size(), 1u);
}

TEST(PageRowsTest, ABudgetOfHalfAFrameKeepsAnyPageInsideAFrame) {
  PageRows page(100000);
  const std::string path(4096, 'p');
  std::size_t added = 0;
  while (page.add(json{{"app", path}})) ++added;
  const std::string answer = json{{"apps", page.take()}}.dump();
  EXPECT_GT(added, 10u);
  EXPECT_LT(answer.size(), kMaxFrameBytes);
}

TEST(CollectPagesTest, WalksEveryPageWithTheCursor) {
  std::vector<json> seen;
  auto call = [&](const json& params) {
    seen.push_back(params);
    const int after = params.value("after", 0);
    json rows = json::array();
    for (int i = after + 1; i <= std::min(after + 3, 7); ++i) rows.push_back(i);
    return json{{"items", rows}, {"more", after + 3 < 7}, {"next_after", after + 3}, {"totals", 42}};
  };
  const json all = collect_pages(call, json{{"filter", "x"}}, "items", "after");
  EXPECT_EQ(all["items"], json::array({1, 2, 3, 4, 5, 6, 7}));
  EXPECT_EQ(all["totals"], 42) << "the last page's other members are kept";
  EXPECT_FALSE(all.contains("more"));
  EXPECT_FALSE(all.contains("next_after"));
  ASSERT_EQ(seen.size(), 3u);
  EXPECT_EQ(seen[2], (json{{"filter", "x"}, {"after", 6}}));
}

TEST(CollectPagesTest, AServiceThatIgnoresTheCursorCannotMakeItLoopForever) {
  int calls = 0;
  auto stuck = [&](const json&) {
    ++calls;
    return json{{"items", json::array()}, {"more", true}, {"next_after", 0}};
  };
  EXPECT_TRUE(collect_pages(stuck, json::object(), "items", "after")["items"].empty());
  EXPECT_EQ(calls, 1);
  calls = 0;
  auto same_page = [&](const json&) {
    ++calls;
    return json{{"items", json::array({1})}, {"more", true}, {"next_after", 5}};
  };
  EXPECT_EQ(collect_pages(same_page, json::object(), "items", "after")["items"], json::array({1, 1}));
  EXPECT_EQ(calls, 2) << "the second page's cursor did not move";
  auto old_service = [&](const json&) { return json{{"items", json::array({1, 2})}}; };
  EXPECT_EQ(collect_pages(old_service, json::object(), "items", "after")["items"], json::array({1, 2}));
}

}  // namespace
}  // namespace sluice::protocol
