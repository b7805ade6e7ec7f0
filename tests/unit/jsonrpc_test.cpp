#include "control/protocol/jsonrpc.h"

#include <gtest/gtest.h>

namespace sluice::protocol {
namespace {

class DispatcherTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dispatcher.add("echo", Access::read, [](const json& params, const Caller&) { return params; });
    dispatcher.add("whoami", Access::read, [](const json&, const Caller& c) { return json(c.account); });
    dispatcher.add("change", Access::admin, [this](const json&, const Caller&) {
      ++changes;
      return json(true);
    });
    dispatcher.add("add", Access::read, [](const json& params, const Caller&) {
      return json(required_param<int>(params, "a") + optional_param<int>(params, "b", 10));
    });
    dispatcher.add("boom", Access::read, [](const json&, const Caller&) -> json { throw std::runtime_error("disk on fire"); });
    admin.administrator = true;
    admin.account = "root";
    user.account = "alice";
  }

  json call(const std::string& payload, const Caller& caller) { return json::parse(dispatcher.handle(payload, caller)); }

  Dispatcher dispatcher;
  Caller admin, user;
  int changes = 0;
};

TEST_F(DispatcherTest, AnswersARequestWithItsId) {
  json r = call(R"({"jsonrpc":"2.0","id":7,"method":"echo","params":{"x":1}})", user);
  EXPECT_EQ(r["id"], 7);
  EXPECT_EQ(r["result"]["x"], 1);
  EXPECT_EQ(r["jsonrpc"], "2.0");
}

TEST_F(DispatcherTest, HandsTheTransportsCallerToTheMethod) {
  EXPECT_EQ(call(R"({"jsonrpc":"2.0","id":"a","method":"whoami"})", user)["result"], "alice");
}

TEST_F(DispatcherTest, MalformedJsonIsAParseErrorWithNullId) {
  json r = call("{not json", user);
  EXPECT_EQ(r["error"]["code"], kParseError);
  EXPECT_TRUE(r["id"].is_null());
}

TEST_F(DispatcherTest, UnknownMethodIsNamed) {
  json r = call(R"({"jsonrpc":"2.0","id":1,"method":"nope"})", user);
  EXPECT_EQ(r["error"]["code"], kMethodNotFound);
  EXPECT_NE(r["error"]["message"].get<std::string>().find("nope"), std::string::npos);
}

TEST_F(DispatcherTest, InvalidRequestsAreRefused) {
  EXPECT_EQ(call(R"({"jsonrpc":"1.0","id":1,"method":"echo"})", user)["error"]["code"], kInvalidRequest);
  EXPECT_EQ(call(R"({"jsonrpc":"2.0","id":1,"method":5})", user)["error"]["code"], kInvalidRequest);
  EXPECT_EQ(call(R"({"jsonrpc":"2.0","id":{},"method":"echo"})", user)["error"]["code"], kInvalidRequest);
  EXPECT_EQ(call(R"({"jsonrpc":"2.0","id":1,"method":"echo","params":3})", user)["error"]["code"], kInvalidRequest);
  EXPECT_EQ(call("42", user)["error"]["code"], kInvalidRequest);
  EXPECT_EQ(call("[]", user)["error"]["code"], kInvalidRequest);
}

// A "jsonrpc" that is not a string threw json's type_error out of handle(), which
// ended the control server's client thread and sluiced with it: any local user
// could stop the service with one frame. Found by fuzz_rpc_dispatch.
TEST_F(DispatcherTest, AJsonrpcThatIsNotAStringIsAnInvalidRequest) {
  for (const char* version : {"5", "2.0", "1e300", "null", "true", "[]", "{}"}) {
    const std::string request = std::string(R"({"jsonrpc":)") + version + R"(,"id":1,"method":"echo"})";
    std::string answer;
    ASSERT_NO_THROW(answer = dispatcher.handle(request, user)) << request;
    EXPECT_EQ(json::parse(answer)["error"]["code"], kInvalidRequest) << request;
    ASSERT_NO_THROW(answer = dispatcher.handle("[" + request + "]", user)) << request;
    EXPECT_EQ(json::parse(answer)[0]["error"]["code"], kInvalidRequest) << request;
  }
}

TEST_F(DispatcherTest, AdminMethodsAreRefusedToOthersAndNotRun) {
  json r = call(R"({"jsonrpc":"2.0","id":1,"method":"change"})", user);
  EXPECT_EQ(r["error"]["code"], kPermissionDenied);
  EXPECT_NE(r["error"]["message"].get<std::string>().find("alice"), std::string::npos);
  // Worded for a person: the method is in the data, not the message.
  EXPECT_EQ(r["error"]["message"].get<std::string>().find("'change'"), std::string::npos) << r;
  EXPECT_EQ(r["error"]["data"]["method"], "change");
  EXPECT_EQ(changes, 0);
  EXPECT_EQ(call(R"({"jsonrpc":"2.0","id":1,"method":"change"})", admin)["result"], true);
  EXPECT_EQ(changes, 1);
}

TEST_F(DispatcherTest, InvalidParamsNameTheField) {
  json missing = call(R"({"jsonrpc":"2.0","id":1,"method":"add","params":{}})", user);
  EXPECT_EQ(missing["error"]["code"], kInvalidParams);
  EXPECT_EQ(missing["error"]["data"]["field"], "a");
  json wrong = call(R"({"jsonrpc":"2.0","id":1,"method":"add","params":{"a":"x"}})", user);
  EXPECT_EQ(wrong["error"]["code"], kInvalidParams);
  EXPECT_NE(wrong["error"]["message"].get<std::string>().find("'a'"), std::string::npos);
  EXPECT_EQ(call(R"({"jsonrpc":"2.0","id":1,"method":"add","params":{"a":1}})", user)["result"], 11);
}

// nlohmann's get<int>() converts true to 1 and 1.5 to 1, and get<unsigned>() makes
// -1 huge: a parameter of the wrong kind must be refused, not reinterpreted.
TEST(RequiredParamTest, RefusesValuesThatOnlyConvertToTheType) {
  auto field_of = [](auto read) -> std::string {
    try {
      read();
    } catch (const RpcError& e) {
      EXPECT_EQ(e.code(), kInvalidParams) << e.what();
      return e.data().value("field", std::string()) + " / " + e.what();
    }
    return "accepted";
  };
  for (const json& bad : {json(true), json(1.5), json("7"), json::object(), json::array(), json(nullptr)}) {
    const json params{{"n", bad}};
    EXPECT_EQ(field_of([&] { return required_param<std::int64_t>(params, "n"); }).rfind("n / parameter 'n'", 0), 0u) << bad;
  }
  EXPECT_NE(field_of([] { return required_param<std::size_t>(json{{"n", -1}}, "n"); }).find("from 0"), std::string::npos);
  EXPECT_NE(field_of([] { return required_param<std::int64_t>(json{{"n", 18446744073709551615ULL}}, "n"); }).find("'n'"),
            std::string::npos);
  EXPECT_NE(field_of([] { return required_param<int>(json{{"n", 1LL << 40}}, "n"); }).find("'n'"), std::string::npos);
  EXPECT_NE(field_of([] { return required_param<bool>(json{{"b", 1}}, "b"); }).find("true or false"), std::string::npos);
  EXPECT_NE(field_of([] { return required_param<std::string>(json{{"s", 5}}, "s"); }).find("a string"), std::string::npos);

  EXPECT_EQ(required_param<std::int64_t>(json{{"n", -5}}, "n"), -5);
  EXPECT_EQ(required_param<std::uint64_t>(json{{"n", 18446744073709551615ULL}}, "n"), 18446744073709551615ULL);
  EXPECT_EQ(required_param<std::size_t>(json{{"n", 3}}, "n"), 3u);
  EXPECT_EQ(optional_param<std::size_t>(json{{"n", nullptr}}, "n", 9), 9u);
}

TEST_F(DispatcherTest, ListsItsMethodsWithTheirAccess) {
  const auto methods = dispatcher.methods();
  EXPECT_EQ(methods.size(), 5u);
  EXPECT_EQ(methods.at("change"), Access::admin);
  EXPECT_EQ(methods.at("echo"), Access::read);
}

TEST_F(DispatcherTest, AThrowingMethodBecomesAnInternalError) {
  json r = call(R"({"jsonrpc":"2.0","id":1,"method":"boom"})", user);
  EXPECT_EQ(r["error"]["code"], kInternalError);
  EXPECT_NE(r["error"]["message"].get<std::string>().find("disk on fire"), std::string::npos);
}

// Names come from the operating system as bytes: a program at "/tmp/\xff" or an
// account named in Latin-1 reaches results (stats.get lists every program that
// registered a flow). Found by fuzz_rpc_dispatch: the answer failed to serialize and
// the exception ended the control server's client thread, and with it sluiced.
TEST_F(DispatcherTest, AnswersStayJsonWhenTheyRepeatBytesThatAreNotUtf8) {
  Caller latin1 = user;
  latin1.account = "caf\xe9";
  std::string answer;
  ASSERT_NO_THROW(answer = dispatcher.handle(R"({"jsonrpc":"2.0","id":1,"method":"whoami"})", latin1));
  EXPECT_EQ(json::parse(answer)["result"], "caf\xef\xbf\xbd") << "the stray byte becomes U+FFFD";
  ASSERT_NO_THROW(answer = dispatcher.handle(R"([{"jsonrpc":"2.0","id":1,"method":"whoami"}])", latin1));
  EXPECT_EQ(json::parse(answer)[0]["result"], "caf\xef\xbf\xbd");
}

TEST_F(DispatcherTest, NotificationsGetNoAnswer) {
  EXPECT_EQ(dispatcher.handle(R"({"jsonrpc":"2.0","method":"change"})", admin), "");
  EXPECT_EQ(changes, 1);
}

TEST_F(DispatcherTest, BatchesAnswerEachRequestInOrder) {
  json r = call(R"([{"jsonrpc":"2.0","id":1,"method":"echo","params":[1]},
                    {"jsonrpc":"2.0","method":"echo"},
                    {"jsonrpc":"2.0","id":2,"method":"nope"}])", user);
  ASSERT_TRUE(r.is_array());
  ASSERT_EQ(r.size(), 2u);
  EXPECT_EQ(r[0]["id"], 1);
  EXPECT_EQ(r[1]["error"]["code"], kMethodNotFound);
}

TEST(ResultOfTest, ReturnsTheResultOrThrowsTheError) {
  EXPECT_EQ(result_of(json{{"jsonrpc", "2.0"}, {"id", 3}, {"result", 5}}, 3), 5);
  try {
    result_of(make_error_response(3, kPermissionDenied, "no"), 3);
    FAIL();
  } catch (const RpcError& e) {
    EXPECT_EQ(e.code(), kPermissionDenied);
    EXPECT_STREQ(e.what(), "no");
  }
  EXPECT_THROW(result_of(json{{"jsonrpc", "2.0"}, {"id", 4}, {"result", 5}}, 3), RpcError);
  EXPECT_THROW(result_of(json::array(), 3), RpcError);
}

// What a client makes of a malformed answer is an RpcError, never json's own
// exceptions, whatever type the fields have.
TEST(ResultOfTest, AnswersWithFieldsOfTheWrongTypeAreRpcErrors) {
  EXPECT_THROW(result_of(json{{"jsonrpc", 2}, {"id", 3}, {"result", 5}}, 3), RpcError);
  try {
    result_of(json{{"jsonrpc", "2.0"}, {"id", 3}, {"error", {{"code", "x"}, {"message", 7}}}}, 3);
    FAIL();
  } catch (const RpcError& e) {
    EXPECT_EQ(e.code(), kInternalError);
    EXPECT_STREQ(e.what(), "unknown error");
  }
  try {
    result_of(json{{"jsonrpc", "2.0"}, {"id", 3}, {"error", {{"code", 4294967296}, {"message", "big"}}}}, 3);
    FAIL();
  } catch (const RpcError& e) {
    EXPECT_EQ(e.code(), kInternalError) << "a code outside int is not read as its low bits";
  }
  EXPECT_THROW(result_of(json{{"jsonrpc", "2.0"}, {"id", 3}, {"error", "bad"}}, 3), RpcError);
}

}  // namespace
}  // namespace sluice::protocol
