// rpc_load: a steady rate of read-only control calls from several clients, with every
// call's latency recorded. The load suite runs it while the relay carries thousands
// of flows, to show the control plane keeps answering.
//
// --clients threads each open their own connection (transport::RpcClient, as
// sluicectl does) and call, in turn, service.status, stats.get and a page of
// flows.list, on a fixed schedule: together --rate calls per second. A client that
// falls behind calls at once until it is back on schedule (no call is skipped, and
// none is made early). Latency is measured from the call to its answer.
//
// Prints one JSON object: {"calls", "errors", "seconds", "rate", "p50_ms", "p99_ms",
// "max_ms", "first_error"}.
//
// Usage: rpc_load --control ENDPOINT [--clients N] [--rate CALLS_PER_SECOND] [--seconds S]
// Exit status: 0 no errors, 1 errors, 2 bad usage.

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <exception>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "control/transport/rpc_client.h"
#include "tests/bench/bench_args.h"

namespace {

constexpr bench::Program kProgram{"rpc_load", "--control ENDPOINT [--clients N] [--rate CALLS_PER_SECOND] [--seconds S]"};
using Clock = std::chrono::steady_clock;
constexpr std::chrono::milliseconds kCallTimeout{5000};

struct ClientResult {
  std::vector<double> latencies_ms;
  std::uint64_t errors = 0;
  std::string first_error;
};

void run_client(const std::string& endpoint, unsigned index, unsigned clients, Clock::duration interval, Clock::time_point start,
                Clock::time_point end, ClientResult& out) {
  using sluice::protocol::json;
  const json calls[] = {json{{"method", "service.status"}, {"params", json::object()}},
                        json{{"method", "stats.get"}, {"params", json::object()}},
                        json{{"method", "flows.list"}, {"params", json{{"limit", 20}}}}};
  std::unique_ptr<sluice::transport::RpcClient> client;
  auto fail = [&out](const std::string& what) {
    if (out.errors++ == 0) out.first_error = what;
  };
  // Clients are spread over the interval, so the calls arrive evenly.
  auto next = start + interval * index / clients;
  for (std::uint64_t n = 0; next < end; ++n, next += interval) {
    std::this_thread::sleep_until(next);
    const json& call = calls[n % std::size(calls)];
    const auto t0 = Clock::now();
    try {
      if (!client) client = std::make_unique<sluice::transport::RpcClient>(endpoint, kCallTimeout, "rpc_load");
      client->call(call["method"], call["params"]);
      out.latencies_ms.push_back(std::chrono::duration<double, std::milli>(Clock::now() - t0).count());
    } catch (const std::exception& e) {
      fail(call["method"].get<std::string>() + ": " + e.what());
      client.reset();  // a fresh connection for the next call
    }
  }
}

double percentile(const std::vector<double>& sorted, double q) {
  if (sorted.empty()) return 0;
  const auto rank = static_cast<std::size_t>(q * static_cast<double>(sorted.size()) + 0.999999);
  return sorted[std::min(sorted.size() - 1, rank == 0 ? 0 : rank - 1)];
}

}  // namespace

int main(int argc, char** argv) {
  std::string endpoint;
  unsigned long clients = 8;
  double rate = 1000, seconds = 10;
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    if (i + 1 >= argc) kProgram.usage("missing value for " + arg);
    if (arg == "--control") {
      endpoint = argv[++i];
    } else if (arg == "--clients") {
      clients = static_cast<unsigned long>(kProgram.number(argv[++i]));
    } else if (arg == "--rate") {
      rate = kProgram.number(argv[++i]);
    } else if (arg == "--seconds") {
      seconds = kProgram.number(argv[++i]);
    } else {
      kProgram.usage("unknown argument " + arg);
    }
  }
  if (endpoint.empty()) kProgram.usage("--control is required");
  if (clients == 0 || clients > 64) kProgram.usage("--clients must be 1-64");
  if (rate <= 0 || rate > 100000) kProgram.usage("--rate must be above 0 and at most 100000");

  const auto interval = std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(static_cast<double>(clients) / rate));
  const auto start = Clock::now() + std::chrono::milliseconds(50);
  const auto end = start + std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(seconds));
  std::vector<ClientResult> results(clients);
  std::vector<std::thread> threads;
  for (unsigned i = 0; i < clients; ++i) {
    threads.emplace_back(run_client, std::cref(endpoint), i, static_cast<unsigned>(clients), interval, start, end, std::ref(results[i]));
  }
  for (auto& t : threads) t.join();
  const double elapsed = std::chrono::duration<double>(Clock::now() - start).count();

  std::vector<double> all;
  std::uint64_t errors = 0;
  std::string first_error;
  for (auto& r : results) {
    all.insert(all.end(), r.latencies_ms.begin(), r.latencies_ms.end());
    if (errors == 0 && r.errors > 0) first_error = r.first_error;
    errors += r.errors;
  }
  std::sort(all.begin(), all.end());
  for (char& c : first_error) {
    if (c == '"' || c == '\\') c = '\'';
  }
  std::printf("{\"calls\": %zu, \"errors\": %llu, \"seconds\": %.1f, \"rate\": %.1f, \"p50_ms\": %.3f, \"p99_ms\": %.3f, "
              "\"max_ms\": %.3f, \"first_error\": \"%s\"}\n",
              all.size(), static_cast<unsigned long long>(errors), elapsed, static_cast<double>(all.size()) / elapsed,
              percentile(all, 0.50), percentile(all, 0.99), all.empty() ? 0.0 : all.back(), first_error.c_str());
  return errors == 0 && !all.empty() ? 0 : 1;
}
