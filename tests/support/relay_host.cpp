// The relay engine in a process of its own, for tests that kill it the way a crash
// would (tests/integration/relay_process_death_test.cpp). It expects one TCP flow
// from the application's loopback port to the destination's (the application's
// socket proven to be process APP_PID's, as flow.register proves it), prints the
// port of its relay listener on a line, and waits to be killed.
//   usage: relay_host 4|6 APP_PORT DESTINATION_PORT APP_PID

#include <chrono>
#include <cstdio>
#include <exception>
#include <memory>
#include <string>
#include <thread>

#include <spdlog/sinks/stdout_sinks.h>
#include <spdlog/spdlog.h>

#include "net/ip_address.h"
#include "service/relay/relay_engine.h"
#include "service/relay/socket_owner.h"

namespace {

std::uint16_t port_argument(const char* text) {
  const unsigned long value = std::stoul(text);
  if (value == 0 || value > 65535) throw std::out_of_range(std::string("not a port: ") + text);
  return static_cast<std::uint16_t>(value);
}

}  // namespace

int main(int argc, char** argv) {
  using namespace sluice;
  // Stdout carries the listener's port for the test to read; the log goes elsewhere.
  spdlog::set_default_logger(spdlog::stderr_logger_mt("relay_host"));
  try {
    const std::string family = argc == 5 ? argv[1] : "";
    if (family != "4" && family != "6") {
      std::fprintf(stderr, "usage: relay_host 4|6 APP_PORT DESTINATION_PORT APP_PID\n");
      return 2;
    }
    const bool ipv6 = family == "6";
    const net::IpAddress loopback = *net::parse_ip(ipv6 ? "::1" : "127.0.0.1");
    relay::EngineConfig config;
    config.workers = 1;
    relay::RelayEngine engine(config);
    engine.start();
    auto flow = std::make_shared<relay::Flow>();
    flow->id = 1;
    flow->protocol = policy::Protocol::tcp;
    flow->app_local = net::Endpoint{loopback, port_argument(argv[2])};
    flow->destination = net::Endpoint{loopback, port_argument(argv[3])};
    flow->app_socket = relay::find_owned_bound_socket(flow->protocol, flow->app_local, std::stoll(argv[4]));
    engine.expect_tcp(flow);
    std::printf("%u\n", static_cast<unsigned>(engine.tcp_listener(ipv6).port));
    std::fflush(stdout);
    for (;;) std::this_thread::sleep_for(std::chrono::hours(1));  // until the test kills it
  } catch (const std::exception& e) {
    std::fprintf(stderr, "relay_host: %s\n", e.what());
    return 1;
  }
}
