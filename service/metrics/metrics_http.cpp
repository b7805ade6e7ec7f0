#include "service/metrics/metrics_http.h"

#include <algorithm>
#include <exception>

#include "control/protocol/prometheus.h"

namespace sluice::service::metrics {
namespace {

HttpResponse make(int status, const char* reason, std::string_view content_type, const std::string& body,
                  const char* extra_header = "") {
  HttpResponse r;
  r.status = status;
  r.text = "HTTP/1.1 " + std::to_string(status) + " " + reason + "\r\n" + "Content-Type: " + std::string(content_type) +
           "\r\n" + "Content-Length: " + std::to_string(body.size()) + "\r\n" + extra_header +
           "Connection: close\r\n\r\n" + body;
  return r;
}

HttpResponse plain(int status, const char* reason, const std::string& body, const char* extra_header = "") {
  return make(status, reason, "text/plain; charset=utf-8", body + "\n", extra_header);
}

}  // namespace

HeadState head_state(std::string_view received, std::size_t limit) {
  const std::size_t crlf = received.find("\r\n\r\n");
  const std::size_t lf = received.find("\n\n");
  const std::size_t end = std::min(crlf == std::string_view::npos ? crlf : crlf + 4, lf == std::string_view::npos ? lf : lf + 2);
  if (end != std::string_view::npos && end <= limit) return HeadState::complete;
  return received.size() >= limit ? HeadState::too_large : HeadState::incomplete;
}

HttpResponse respond(std::string_view head, const std::function<std::string()>& metrics_text) {
  const std::string_view line = head.substr(0, head.find('\n'));
  const std::size_t first_space = line.find(' ');
  const std::size_t second_space = first_space == std::string_view::npos ? first_space : line.find(' ', first_space + 1);
  if (second_space == std::string_view::npos) return plain(400, "Bad Request", "not an HTTP request");
  const std::string_view method = line.substr(0, first_space);
  const std::string_view target = line.substr(first_space + 1, second_space - first_space - 1);
  std::string_view version = line.substr(second_space + 1);
  if (!version.empty() && version.back() == '\r') version.remove_suffix(1);
  if (version.rfind("HTTP/1.", 0) != 0 || method.empty() || target.empty()) {
    return plain(400, "Bad Request", "not an HTTP/1.x request");
  }
  if (target.substr(0, target.find('?')) != "/metrics") return plain(404, "Not Found", "only /metrics is served here");
  if (method != "GET") return plain(405, "Method Not Allowed", "/metrics answers GET only", "Allow: GET\r\n");
  try {
    return make(200, "OK", protocol::kPrometheusContentType, metrics_text());
  } catch (const std::exception& e) {
    return plain(500, "Internal Server Error", std::string("cannot collect the metrics: ") + e.what());
  }
}

HttpResponse request_too_large() {
  return plain(431, "Request Header Fields Too Large", "the request is too large");
}

}  // namespace sluice::service::metrics
