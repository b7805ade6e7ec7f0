#pragma once

// sluiced's optional /metrics endpoint: Prometheus scrapes it over HTTP on a
// loopback address. It has no authentication, so it refuses any other address.
//
// One thread serves every connection from a poll loop: a few connections at once,
// each given a deadline for its whole exchange and a size limit for its request,
// so an idle or slow client cannot hold the others up, and stop() returns within
// one poll interval (plus a metrics collection already under way).

#include <atomic>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <thread>

#include "net/ip_address.h"
#include "service/metrics/metrics_socket.h"

namespace sluice::service::metrics {

// "127.0.0.1:9464" or "[::1]:9464" (port 0: any free port) to an address. Throws
// std::invalid_argument naming the text when it is no IP address and port, or when
// the address is not loopback (127.0.0.0/8, ::1).
net::Endpoint parse_listen_address(const std::string& text);

struct MetricsServerOptions {
  std::size_t max_connections = 8;                     // more wait in the listen backlog
  std::chrono::milliseconds deadline{5000};            // a connection's whole exchange
  std::size_t max_request_bytes = 8192;                // a request head larger gets 431
  std::chrono::milliseconds poll_interval{100};        // how often stop() is noticed
};

class MetricsServer {
 public:
  using TextSource = std::function<std::string()>;

  // Binds `listen` (see parse_listen_address) at once, so a bad or busy address
  // fails here: std::invalid_argument or std::system_error, naming it.
  // `metrics_text` runs on the server's thread for every scrape.
  MetricsServer(const std::string& listen, TextSource metrics_text, MetricsServerOptions options = {});
  ~MetricsServer();  // stops
  MetricsServer(const MetricsServer&) = delete;
  MetricsServer& operator=(const MetricsServer&) = delete;

  void start();
  // Closes the listener and every connection; never waits for a client.
  void stop();

  // The bound address, its port filled in when 0 was asked for.
  const net::Endpoint& address() const { return address_; }
  std::string url() const;  // "http://127.0.0.1:9464/metrics"
  // Successful (200) answers to GET /metrics so far.
  std::uint64_t scrapes() const { return scrapes_.load(); }

 private:
  struct Connection;
  void serve();
  void advance(Connection& connection);

  SocketLibrary sockets_;
  TextSource metrics_text_;
  MetricsServerOptions options_;
  SocketHandle listener_ = kNoSocket;
  net::Endpoint address_;
  std::atomic<bool> stopping_{false};
  std::atomic<std::uint64_t> scrapes_{0};
  std::thread thread_;
};

}  // namespace sluice::service::metrics
