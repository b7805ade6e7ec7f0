#pragma once

// The little HTTP the /metrics endpoint speaks, as pure functions over bytes: where
// a request's head ends, and the whole response to it. One request per connection,
// answered and closed (HTTP/1.0 style); no bodies, keep-alive or chunking.

#include <cstddef>
#include <functional>
#include <string>
#include <string_view>

namespace sluice::service::metrics {

enum class HeadState {
  incomplete,  // keep reading
  complete,    // an empty line ended the head
  too_large,   // `limit` bytes arrived without an end of the head
};

// Where `received` stands. Lines may end with CRLF or a bare LF.
HeadState head_state(std::string_view received, std::size_t limit);

struct HttpResponse {
  int status = 0;
  std::string text;  // status line, headers and body
};

// The response to a complete request head: 200 with `metrics_text()` for GET
// /metrics (a query string is ignored), 404 for another path, 405 for another
// method, 400 for something that is no HTTP/1.x request, 500 when metrics_text
// throws (its message in the body).
HttpResponse respond(std::string_view head, const std::function<std::string()>& metrics_text);

// 431: the head exceeded the size limit.
HttpResponse request_too_large();

}  // namespace sluice::service::metrics
