// The control plane's bounds on what one frame may make the dispatcher parse and
// answer: nesting depth and batch width checked before parsing, the answer's size
// while it is built.

#include <string>

#include <gtest/gtest.h>

#include "control/protocol/json_bounds.h"
#include "control/protocol/jsonrpc.h"

namespace sluice::protocol {
namespace {

// A request whose params are `depth - 1` arrays deep: with the request object
// itself, the text is nested exactly `depth` levels.
std::string request_nested(std::size_t depth) {
  return R"({"jsonrpc":"2.0","id":1,"method":"echo","params":)" + std::string(depth - 1, '[') +
         std::string(depth - 1, ']') + "}";
}

std::string batch_of(std::size_t members) {
  std::string text = "[";
  for (std::size_t i = 0; i < members; ++i) {
    if (i) text += ',';
    text += R"({"jsonrpc":"2.0","id":)" + std::to_string(i) + R"(,"method":"echo","params":[])" + "}";
  }
  return text + "]";
}

class JsonLimitsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dispatcher.add("echo", Access::read, [](const json& params, const Caller&) { return params; });
    dispatcher.add("big", Access::read, [this](const json&, const Caller&) {
      ++big_calls;
      return json(std::string(300 * 1024, 'x'));
    });
  }
  json call(const std::string& payload) { return json::parse(dispatcher.handle(payload, caller)); }

  Dispatcher dispatcher;
  Caller caller;
  int big_calls = 0;
};

void expect_limit_refusal(const json& answer, std::size_t limit, const std::string& words) {
  ASSERT_TRUE(answer.is_object()) << answer.dump();
  EXPECT_EQ(answer["error"]["code"], kInvalidRequest);
  EXPECT_TRUE(answer["id"].is_null());
  const std::string message = answer["error"]["message"];
  EXPECT_NE(message.find(std::to_string(limit)), std::string::npos) << message;
  EXPECT_NE(message.find(words), std::string::npos) << message;
  EXPECT_EQ(answer["error"]["data"]["limit"], limit);
}

TEST(JsonShapeTest, CountsDepthAndMembersOutsideStrings) {
  EXPECT_FALSE(scan_json_shape(R"({"a":"[[[[[[","b":"\"[[[["})", 2).too_deep);
  EXPECT_TRUE(scan_json_shape("[[[]]]", 2).too_deep);
  EXPECT_FALSE(scan_json_shape("[[]]", 2).too_deep);
  const JsonShape batch = scan_json_shape(R"([1, "a,b", {"x":[1,2,3]}, [4,5]])");
  EXPECT_TRUE(batch.top_level_array);
  EXPECT_EQ(batch.batch_members, 4u);
  EXPECT_EQ(scan_json_shape("[]").batch_members, 0u);
  EXPECT_EQ(scan_json_shape(R"({"a":[1,2,3]})").batch_members, 0u);
}

TEST_F(JsonLimitsTest, DepthSixtyFourIsServed) {
  const json answer = call(request_nested(kMaxJsonDepth));
  EXPECT_TRUE(answer.contains("result")) << answer.dump().substr(0, 200);
}

TEST_F(JsonLimitsTest, DepthSixtyFiveIsRefusedNamingTheLimit) {
  expect_limit_refusal(call(request_nested(kMaxJsonDepth + 1)), kMaxJsonDepth, "nested deeper");
}

TEST_F(JsonLimitsTest, AHundredThousandLevelsAreRefusedWithoutCrashing) {
  expect_limit_refusal(call(request_nested(100'000)), kMaxJsonDepth, "nested deeper");
  // Unbalanced, and inside a batch: refused the same way, never parsed.
  expect_limit_refusal(call("[" + std::string(100'000, '[')), kMaxJsonDepth, "nested deeper");
  expect_limit_refusal(call(R"([{"jsonrpc":"2.0","id":1,"method":"echo","params":)" + std::string(100'000, '{')),
                       kMaxJsonDepth, "nested deeper");
}

TEST_F(JsonLimitsTest, TheDispatcherStillServesAfterARefusal) {
  call(request_nested(100'000));
  EXPECT_EQ(call(R"({"jsonrpc":"2.0","id":2,"method":"echo","params":{"ok":true}})")["result"]["ok"], true);
}

TEST_F(JsonLimitsTest, ABatchOfSixtyFourIsServed) {
  const json answer = call(batch_of(kMaxBatchMembers));
  ASSERT_TRUE(answer.is_array());
  EXPECT_EQ(answer.size(), kMaxBatchMembers);
  EXPECT_EQ(answer.back()["id"], kMaxBatchMembers - 1);
}

TEST_F(JsonLimitsTest, ABatchOfSixtyFiveIsRefusedNamingTheLimit) {
  expect_limit_refusal(call(batch_of(kMaxBatchMembers + 1)), kMaxBatchMembers, "batch");
  // Half a million trivial members: refused before any tree is built.
  std::string flood = "[1";
  for (int i = 0; i < 500'000; ++i) flood += ",1";
  expect_limit_refusal(call(flood + "]"), kMaxBatchMembers, "batch");
}

TEST_F(JsonLimitsTest, ABatchWhoseAnswersWouldNotFitGetsAnErrorForTheRest) {
  // Four answers of 300 KiB: three fit in 1 MiB, the fourth does not.
  std::string batch = "[";
  for (int i = 0; i < 6; ++i) batch += std::string(i ? "," : "") + R"({"jsonrpc":"2.0","id":)" + std::to_string(i) + R"(,"method":"big"})";
  const std::string text = dispatcher.handle(batch + "]", caller);
  EXPECT_LE(text.size(), kMaxFrameBytes);
  const json answer = json::parse(text);
  ASSERT_EQ(answer.size(), 6u);
  for (int i = 0; i < 3; ++i) EXPECT_TRUE(answer[i].contains("result")) << i;
  EXPECT_EQ(answer[3]["error"]["code"], kAnswerTooLarge);
  EXPECT_EQ(answer[3]["error"]["data"]["carried_out"], true);
  for (int i = 4; i < 6; ++i) {
    EXPECT_EQ(answer[i]["id"], i);
    EXPECT_EQ(answer[i]["error"]["code"], kAnswerTooLarge);
    EXPECT_EQ(answer[i]["error"]["data"]["carried_out"], false);
  }
  EXPECT_EQ(big_calls, 4);  // the members after the one that overflowed were not carried out
}

TEST_F(JsonLimitsTest, ASingleAnswerOverTheLimitIsAnError) {
  Dispatcher small(DispatchLimits{.max_answer_bytes = 64 * 1024});
  small.add("big", Access::read, [](const json&, const Caller&) { return json(std::string(100 * 1024, 'x')); });
  const std::string text = small.handle(R"({"jsonrpc":"2.0","id":"b","method":"big"})", caller);
  EXPECT_LE(text.size(), 64u * 1024u);
  const json answer = json::parse(text);
  EXPECT_EQ(answer["id"], "b");
  EXPECT_EQ(answer["error"]["code"], kAnswerTooLarge);
}

TEST(ParseBoundedTest, RefusesTextNestedPastTheLimit) {
  EXPECT_TRUE(parse_bounded(std::string(100'000, '[') + std::string(100'000, ']')).is_discarded());
  EXPECT_EQ(parse_bounded(R"({"a":[1]})")["a"][0], 1);
}

}  // namespace
}  // namespace sluice::protocol
