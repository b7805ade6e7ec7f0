// The /metrics endpoint's HTTP, as bytes in and bytes out.
#include "service/metrics/metrics_http.h"

#include <gtest/gtest.h>

#include <stdexcept>

namespace sluice::service::metrics {
namespace {

std::string metrics() { return "sluice_up 1\n"; }

TEST(MetricsHttpTest, HeadEndsAtAnEmptyLine) {
  EXPECT_EQ(head_state("", 100), HeadState::incomplete);
  EXPECT_EQ(head_state("GET /metrics HTTP/1.1\r\nHost: x\r\n", 100), HeadState::incomplete);
  EXPECT_EQ(head_state("GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n", 100), HeadState::complete);
  EXPECT_EQ(head_state("GET /metrics HTTP/1.0\n\n", 100), HeadState::complete);
  EXPECT_EQ(head_state(std::string(100, 'x'), 100), HeadState::too_large);
  EXPECT_EQ(head_state(std::string(99, 'x'), 100), HeadState::incomplete);
  // The end must lie within the limit, not merely have arrived.
  EXPECT_EQ(head_state(std::string(120, 'x') + "\r\n\r\n", 100), HeadState::too_large);
}

TEST(MetricsHttpTest, GetMetricsAnswersWithTheExpositionAndItsContentType) {
  const HttpResponse r = respond("GET /metrics HTTP/1.1\r\nHost: localhost\r\n\r\n", metrics);
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.text,
            "HTTP/1.1 200 OK\r\n"
            "Content-Type: text/plain; version=0.0.4; charset=utf-8\r\n"
            "Content-Length: 12\r\n"
            "Connection: close\r\n"
            "\r\n"
            "sluice_up 1\n");
  EXPECT_EQ(respond("GET /metrics?name[]=x HTTP/1.0\n\n", metrics).status, 200) << "a query string is ignored";
}

TEST(MetricsHttpTest, OtherPathsMethodsAndGarbageAreRefused) {
  EXPECT_EQ(respond("GET / HTTP/1.1\r\n\r\n", metrics).status, 404);
  EXPECT_EQ(respond("GET /metrics/x HTTP/1.1\r\n\r\n", metrics).status, 404);
  const HttpResponse post = respond("POST /metrics HTTP/1.1\r\n\r\n", metrics);
  EXPECT_EQ(post.status, 405);
  EXPECT_NE(post.text.find("\r\nAllow: GET\r\n"), std::string::npos);
  EXPECT_EQ(respond("HEAD /metrics HTTP/1.1\r\n\r\n", metrics).status, 405);
  EXPECT_EQ(respond("hello\r\n\r\n", metrics).status, 400);
  EXPECT_EQ(respond("GET /metrics SPDY/3\r\n\r\n", metrics).status, 400);
  EXPECT_EQ(request_too_large().status, 431);
}

TEST(MetricsHttpTest, AFailingCollectionIsA500NamingTheCause) {
  const HttpResponse r = respond("GET /metrics HTTP/1.1\r\n\r\n", []() -> std::string {
    throw std::runtime_error("stats.get: unknown method");
  });
  EXPECT_EQ(r.status, 500);
  EXPECT_NE(r.text.find("stats.get: unknown method"), std::string::npos);
}

}  // namespace
}  // namespace sluice::service::metrics
