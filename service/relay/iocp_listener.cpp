#include "service/relay/iocp_listener.h"

#include <spdlog/spdlog.h>

#include <vector>

#include "service/relay/iocp_relay.h"

namespace sluice::relay::iocp {

namespace {

// A failed AcceptEx that is not about one connection (no sockets left, say) is tried
// again after this long rather than at once.
constexpr auto kRetryAfter = std::chrono::milliseconds(100);

// The connection went away before we took it: nothing is wrong with the listener.
bool lost_connection(int error) { return error == WSAECONNRESET || error == WSAECONNABORTED; }

}  // namespace

std::unique_ptr<Listener> Listener::open(Port& port, const net::Endpoint& address, bool inline_completions,
                                         AcceptHandler on_accept) {
  const bool ipv6 = !net::is_ipv4(address.ip);
  net::win::Socket socket;
  try {
    socket = net::win::open_socket(ipv6 ? AF_INET6 : AF_INET, SOCK_STREAM, "relay listener socket");
  } catch (const std::system_error& e) {
    if (ipv6 && e.code().value() == WSAEAFNOSUPPORT) return nullptr;
    throw;
  }
  try {
    const net::SocketAddress at = net::to_sockaddr(address);
    if (::bind(socket.handle, at.get(), at.length) != 0) {
      const int error = WSAGetLastError();
      if (ipv6 && (error == WSAEADDRNOTAVAIL || error == WSAEAFNOSUPPORT)) {
        net::win::close(socket);
        return nullptr;
      }
      net::win::throw_error(error, "bind relay listener " + net::format_endpoint(address));
    }
    if (::listen(socket.handle, SOMAXCONN) != 0) net::win::throw_last_error("listen on " + net::format_endpoint(address));
    port.associate(socket.handle);
    if (inline_completions) net::win::skip_completion_port_on_success(socket);
    return std::unique_ptr<Listener>(new Listener(port, socket, std::move(on_accept)));
  } catch (...) {
    net::win::close(socket);
    throw;
  }
}

Listener::Listener(Port& port, net::win::Socket socket, AcceptHandler on_accept)
    : port_(port), on_accept_(std::move(on_accept)), address_(net::win::local_address(socket)),
      family_(net::is_ipv4(address_.ip) ? AF_INET : AF_INET6), socket_(socket) {
  for (Accept& a : accepts_) a.operation.target = this;
}

Listener::~Listener() {
  close();
  for (Accept& a : accepts_) {
    if (!a.outstanding) net::win::close(a.socket);
  }
}

void Listener::start() {
  port_.post([this] {
    for (Accept& a : accepts_) cycle(a, kNoResult);
  });
}

void Listener::close() {
  std::lock_guard lock(mutex_);
  closed_ = true;
  net::win::close(socket_);
  if (outstanding_ == 0) drained_.notify_all();
}

bool Listener::wait_drained(std::chrono::milliseconds bound) {
  std::unique_lock lock(mutex_);
  return drained_.wait_for(lock, bound, [this] { return outstanding_ == 0; });
}

Listener::Accept& Listener::accept_of(Operation& operation) {
  for (Accept& a : accepts_) {
    if (&a.operation == &operation) return a;
  }
  std::abort();  // a packet for an operation this listener never started
}

void Listener::on_completion(Operation& operation, DWORD, bool succeeded) {
  Accept& a = accept_of(operation);
  int error = 0;
  {
    std::lock_guard lock(mutex_);
    --outstanding_;
    a.outstanding = false;
    if (!succeeded) error = closed_ ? WSA_OPERATION_ABORTED : net::win::completion_error(socket_, &operation.overlapped);
  }
  cycle(a, error);
}

void Listener::cycle(Accept& a, int result) {
  std::vector<net::win::Socket> accepted;
  {
    std::lock_guard lock(mutex_);
    if (a.outstanding) return;
    for (int round = 0;; ++round) {
      if (result != kNoResult) {
        if (result == 0 && !closed_) {
          net::win::finish_accept(a.socket, socket_);
          accepted.push_back(a.socket);
          a.socket = net::win::Socket{};
        } else {
          net::win::close_with_reset(a.socket);
        }
        result = kNoResult;
      }
      if (closed_) break;
      if (round == kInlineBudget) {
        port_.post([this, &a] { cycle(a, kNoResult); });
        break;
      }
      try {
        a.socket = net::win::open_socket(family_, SOCK_STREAM, "relay accept socket");
      } catch (const std::exception& e) {
        SPDLOG_WARN("relay: {}", e.what());
        port_.schedule(Clock::now() + kRetryAfter, [this, &a] { cycle(a, kNoResult); });
        break;
      }
      a.operation.prepare();
      const net::win::Started started = net::win::start_accept(socket_, a.socket, a.addresses, &a.operation.overlapped);
      if (started.kind == net::win::Started::pending) {
        ++outstanding_;
        a.outstanding = true;
        break;
      }
      if (started.kind == net::win::Started::failed) {
        net::win::close_with_reset(a.socket);
        if (lost_connection(started.error)) continue;
        SPDLOG_WARN("relay: AcceptEx on {}: {}", net::format_endpoint(address_), net::win::error_text(started.error));
        port_.schedule(Clock::now() + kRetryAfter, [this, &a] { cycle(a, kNoResult); });
        break;
      }
      result = 0;  // a connection was waiting: accepted inline
    }
    if (closed_ && outstanding_ == 0) drained_.notify_all();
  }
  // Outside the lock: the handler sets up a relay, which takes its time.
  for (net::win::Socket& socket : accepted) on_accept_(socket);
}

}  // namespace sluice::relay::iocp
