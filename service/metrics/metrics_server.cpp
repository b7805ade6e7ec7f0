#include "service/metrics/metrics_server.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <list>
#include <stdexcept>

#include "net/ip_address.h"
#include "service/metrics/metrics_http.h"

namespace sluice::service::metrics {
namespace {

using Clock = std::chrono::steady_clock;

[[noreturn]] void bad_address(const std::string& text, const std::string& why) {
  throw std::invalid_argument("metrics listen address '" + text + "': " + why);
}

}  // namespace

net::Endpoint parse_listen_address(const std::string& text) {
  const std::size_t colon = text.rfind(':');
  if (colon == std::string::npos || colon + 1 == text.size()) {
    bad_address(text, "expected ADDRESS:PORT, e.g. 127.0.0.1:9464 or [::1]:9464");
  }
  std::string host = text.substr(0, colon);
  const std::string port_text = text.substr(colon + 1);
  if (host.size() >= 2 && host.front() == '[' && host.back() == ']') {
    host = host.substr(1, host.size() - 2);
    if (host.find(':') == std::string::npos) bad_address(text, "brackets are for IPv6 addresses only");
  } else if (host.find(':') != std::string::npos) {
    bad_address(text, "an IPv6 address needs brackets, e.g. [::1]:9464");
  }
  const auto ip = net::parse_ip(host);
  if (!ip) bad_address(text, "'" + host + "' is not an IP address (names such as localhost are not looked up)");
  if (port_text.size() > 5 || !std::all_of(port_text.begin(), port_text.end(), [](char c) { return c >= '0' && c <= '9'; }) ||
      std::stoul(port_text) > 65535) {
    bad_address(text, "'" + port_text + "' is not a port (0-65535)");
  }
  if (!net::is_loopback(*ip)) {
    bad_address(text, "only loopback addresses (127.0.0.0/8, ::1) are allowed: the metrics endpoint has no "
                      "authentication");
  }
  return net::Endpoint{*ip, static_cast<std::uint16_t>(std::stoul(port_text))};
}

// One client's exchange: its request arriving, then its response leaving.
struct MetricsServer::Connection {
  SocketHandle socket = kNoSocket;
  Clock::time_point deadline;
  std::string received;
  std::string response;  // empty while the request is still arriving
  std::size_t sent = 0;
  bool done = false;
};

MetricsServer::MetricsServer(const std::string& listen, TextSource metrics_text, MetricsServerOptions options)
    : metrics_text_(std::move(metrics_text)), options_(options) {
  listener_ = open_listener(parse_listen_address(listen));
  try {
    address_ = bound_address(listener_);
  } catch (...) {
    close_socket(listener_);
    throw;
  }
}

MetricsServer::~MetricsServer() {
  stop();
  close_socket(listener_);
}

std::string MetricsServer::url() const { return "http://" + net::format_endpoint(address_) + "/metrics"; }

void MetricsServer::start() {
  if (thread_.joinable() || stopping_) return;
  thread_ = std::thread([this] { serve(); });
}

void MetricsServer::stop() {
  stopping_ = true;
  if (thread_.joinable()) thread_.join();
}

void MetricsServer::serve() {
  std::list<Connection> connections;
  std::vector<Readiness> polled;
  try {
    while (!stopping_) {
      polled.clear();
      const bool accepting = connections.size() < options_.max_connections;
      if (accepting) polled.push_back(Readiness{listener_, false, false});
      for (const Connection& c : connections) polled.push_back(Readiness{c.socket, !c.response.empty(), false});
      wait_ready(polled, static_cast<int>(options_.poll_interval.count()));

      const auto now = Clock::now();
      std::size_t i = 0;
      if (accepting && polled[i++].ready) {
        while (connections.size() < options_.max_connections) {
          const SocketHandle s = accept_connection(listener_);
          if (s == kNoSocket) break;
          connections.push_back(Connection{s, now + options_.deadline});
        }
      }
      for (auto it = connections.begin(); it != connections.end(); ++i) {
        Connection& c = *it;
        // New connections were not polled: their first turn comes next round.
        if (i < polled.size() && polled[i].socket == c.socket && polled[i].ready) advance(c);
        if (c.done || now >= c.deadline) {
          close_socket(c.socket);
          it = connections.erase(it);
        } else {
          ++it;
        }
      }
    }
  } catch (const std::exception& e) {
    SPDLOG_ERROR("metrics endpoint {} stopped: {}", url(), e.what());
  }
  for (Connection& c : connections) close_socket(c.socket);
}

void MetricsServer::advance(Connection& c) {
  if (c.response.empty()) {
    char buffer[2048];
    const Transfer t = receive_some(c.socket, buffer, sizeof buffer);
    if (t.kind == Transfer::would_block) return;
    if (t.kind != Transfer::moved) {
      c.done = true;  // gone before asking anything
      return;
    }
    c.received.append(buffer, t.bytes);
    switch (head_state(c.received, options_.max_request_bytes)) {
      case HeadState::incomplete: return;
      case HeadState::too_large: c.response = request_too_large().text; break;
      case HeadState::complete: {
        HttpResponse r = respond(c.received, metrics_text_);
        if (r.status == 200) ++scrapes_;
        c.response = std::move(r.text);
        break;
      }
    }
    c.received.clear();
  }
  const Transfer t = send_some(c.socket, c.response.data() + c.sent, c.response.size() - c.sent);
  if (t.kind == Transfer::would_block) return;
  if (t.kind == Transfer::moved) c.sent += t.bytes;
  c.done = t.kind != Transfer::moved || c.sent == c.response.size();
}

}  // namespace sluice::service::metrics
