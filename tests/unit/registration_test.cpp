// The provider's side of flow registration (provider/core/registration.h): the
// requests it writes and what it accepts as the service's answer.
#include "provider/core/registration.h"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

namespace sluice::provider {
namespace {

using json = nlohmann::json;

std::string answer(const json& result, const json& id = 1) {
  return json{{"jsonrpc", "2.0"}, {"id", id}, {"result", result}}.dump();
}

TEST(RegistrationTest, RequestsCarryTheFlowAndTheId) {
  const json request = json::parse(encode_register({true, "192.0.2.1", 53, "0.0.0.0", 40000}, 7));
  EXPECT_EQ(request["id"], 7);
  EXPECT_EQ(request["method"], "flow.register");
  EXPECT_EQ(request["params"], (json{{"protocol", "udp"}, {"destination", "192.0.2.1"}, {"port", 53},
                                     {"local", "0.0.0.0"}, {"local_port", 40000}}));
  const json release = json::parse(encode_release(17));
  EXPECT_FALSE(release.contains("id")) << "a notification";
  EXPECT_EQ(release["params"]["flow_id"], 17);
}

TEST(RegistrationTest, DecodesEachVerdict) {
  auto relay = decode_register_answer(
      answer({{"verdict", "relay"}, {"flow_id", 17}, {"relay", "127.0.0.1"}, {"relay_port", 39001},
              {"fail_mode", "closed"}, {"timeout_ms", 500}}),
      1);
  ASSERT_TRUE(relay);
  EXPECT_EQ(relay->verdict, Verdict::relay);
  EXPECT_EQ(relay->flow_id, 17u);
  EXPECT_EQ(relay->relay, "127.0.0.1");
  EXPECT_EQ(relay->relay_port, 39001);
  EXPECT_EQ(relay->fail_mode, FailMode::closed);
  EXPECT_EQ(relay->timeout_ms, 500u);
  auto block = decode_register_answer(answer({{"verdict", "block"}}), 1);
  ASSERT_TRUE(block);
  EXPECT_EQ(block->verdict, Verdict::block);
  EXPECT_EQ(block->fail_mode, FailMode::open) << "the default when the service names none";
  EXPECT_EQ(block->timeout_ms, 250u);
}

TEST(RegistrationTest, RefusesAnswersThatCannotBeActedOn) {
  EXPECT_FALSE(decode_register_answer(answer({{"verdict", "direct"}}, 2), 1)) << "another request's answer";
  EXPECT_FALSE(decode_register_answer(answer({{"verdict", "maybe"}}), 1));
  EXPECT_FALSE(decode_register_answer(answer({{"verdict", "relay"}, {"flow_id", 1}, {"relay", "127.0.0.1"}, {"relay_port", 0}}), 1));
  EXPECT_FALSE(decode_register_answer(answer({{"verdict", "relay"}, {"flow_id", 1}, {"relay_port", 9}}), 1));
  EXPECT_FALSE(decode_register_answer(R"({"jsonrpc":"2.0","id":1,"error":{"code":-32603,"message":"no relay"}})", 1));
  EXPECT_FALSE(decode_register_answer("not json", 1));
}

// Whoever answers in the service's place must not send a program's traffic off the
// machine: a relay address that is not loopback is no answer (the fail mode decides).
TEST(RegistrationTest, AcceptsOnlyALoopbackRelay) {
  auto relay_at = [](const char* address) {
    return decode_register_answer(answer({{"verdict", "relay"}, {"flow_id", 1}, {"relay", address}, {"relay_port", 39001}}), 1);
  };
  for (const char* loopback : {"127.0.0.1", "127.255.0.9", "::1", "::ffff:127.0.0.1"}) {
    EXPECT_TRUE(relay_at(loopback)) << loopback;
  }
  for (const char* elsewhere : {"192.0.2.7", "10.0.0.1", "0.0.0.0", "128.0.0.1", "::", "::2", "2001:db8::1",
                                "::ffff:192.0.2.7", "fe80::1", "localhost", "127.0.0.1 ", "example.com"}) {
    EXPECT_FALSE(relay_at(elsewhere)) << elsewhere;
  }
}

// Whoever answers in the service's place must not make the program build a tree of
// its choosing (nesting that deep exhausts the stack of the thread that copies or
// destroys it): past the depth or size bound, a well-formed answer is no answer.
TEST(RegistrationTest, RefusesAnswersPastTheDepthOrSizeBound) {
  auto nested = [](std::size_t depth) {
    // The answer and its result are two levels; "extra" holds the rest.
    const std::size_t arrays = depth - 2;
    return R"({"jsonrpc":"2.0","id":1,"result":{"verdict":"direct","extra":)" + std::string(arrays, '[') +
           std::string(arrays, ']') + "}}";
  };
  EXPECT_TRUE(decode_register_answer(nested(kMaxAnswerDepth), 1)) << "at the bound";
  EXPECT_FALSE(decode_register_answer(nested(kMaxAnswerDepth + 1), 1)) << "past the bound";
  EXPECT_FALSE(decode_register_answer(nested(100'000), 1)) << "as deep as issue 17's frame";

  auto padded = [](std::size_t bytes) {
    std::string text = R"({"jsonrpc":"2.0","id":1,"result":{"verdict":"direct","extra":""}})";
    text.insert(text.size() - 3, bytes - text.size(), 'x');
    return text;
  };
  EXPECT_TRUE(decode_register_answer(padded(kMaxAnswerBytes), 1)) << "at the bound";
  EXPECT_FALSE(decode_register_answer(padded(kMaxAnswerBytes + 1), 1)) << "past the bound";
}

// It runs inside every steered program: no answer, however malformed, may throw.
// A "jsonrpc" that was not a string threw json's type_error (found by
// fuzz_flow_registration).
TEST(RegistrationTest, NeverThrowsWhateverTheFieldsHold) {
  for (const char* payload : {
           R"({"jsonrpc":0,"id":1,"result":{"verdict":"direct"}})",
           R"({"jsonrpc":null,"id":1,"result":{"verdict":"direct"}})",
           R"({"jsonrpc":["2.0"],"id":1,"result":{"verdict":"direct"}})",
           R"({"jsonrpc":"2.0","id":"1","result":{"verdict":"direct"}})",
           R"({"jsonrpc":"2.0","id":18446744073709551615,"result":{"verdict":"direct"}})",
           R"({"jsonrpc":"2.0","id":1,"result":[]})",
           R"({"jsonrpc":"2.0","id":1,"result":{"verdict":7,"fail_mode":[],"timeout_ms":"250"}})",
           R"({"jsonrpc":"2.0","id":1,"result":{"verdict":"relay","flow_id":-1,"relay":{},"relay_port":1.5}})",
           R"([1,2,3])",
       }) {
    std::optional<RegisterAnswer> decoded;
    EXPECT_NO_THROW(decoded = decode_register_answer(payload, 1)) << payload;
    if (decoded) {
      EXPECT_EQ(decoded->verdict, Verdict::direct) << payload;
    }
  }
}

}  // namespace
}  // namespace sluice::provider
