#pragma once

// Socket plumbing for tests that drive real loopback sockets the same way on every
// platform (BSD sockets on POSIX, Winsock on Windows; one implementation file each).
// Addresses are text ("127.0.0.1", "::1", "0.0.0.0", "::") and a port. Errors come
// back as std::error_code comparable with std::errc (connection_reset, ...), so one
// assertion holds on both platforms. Every wait is bounded by its caller's timeout.

#include <cstddef>
#include <cstdint>
#include <string>
#include <system_error>

namespace sluice::test {

// An owned socket, closed on destruction.
class Socket {
 public:
  Socket() = default;
  explicit Socket(std::intptr_t handle) : handle_(handle) {}
  Socket(Socket&& other) noexcept : handle_(other.handle_) { other.handle_ = kInvalid; }
  Socket& operator=(Socket&& other) noexcept;
  Socket(const Socket&) = delete;
  Socket& operator=(const Socket&) = delete;
  ~Socket() { close(); }

  bool valid() const { return handle_ != kInvalid; }
  std::intptr_t handle() const { return handle_; }
  void close();

  static constexpr std::intptr_t kInvalid = -1;

 private:
  std::intptr_t handle_ = kInvalid;
};

struct Endpoint {
  std::string ip;
  std::uint16_t port = 0;
  bool operator==(const Endpoint&) const = default;
};

// A byte count, or the error of the call.
struct IoResult {
  std::size_t bytes = 0;
  std::error_code error;
};

// Starts the platform's socket library once per process (Winsock); a no-op on POSIX.
void start_sockets();

// True when a UDP socket can be bound to ::1 (IPv6 loopback is configured).
bool ipv6_loopback_available();

// A blocking TCP (stream) or UDP (datagram) socket of the family of `ipv6`; invalid
// on failure (the error in `error` when given).
Socket tcp_socket(bool ipv6, std::error_code* error = nullptr);
Socket udp_socket(bool ipv6, std::error_code* error = nullptr);

std::error_code bind(const Socket& socket, const Endpoint& at);
std::error_code listen(const Socket& socket, int backlog);
std::error_code connect(const Socket& socket, const Endpoint& to);
// Accepts one waiting connection (blocking); invalid on failure.
Socket accept(const Socket& listener);
Endpoint local_endpoint(const Socket& socket);

// Waits up to `timeout_ms` for the socket to be readable (data, end of stream,
// error, or a connection to accept).
bool readable(const Socket& socket, int timeout_ms);

IoResult recv(const Socket& socket, char* buffer, std::size_t size);
// Sends all of `data` (blocking).
IoResult send(const Socket& socket, const std::string& data);
// Sends what the socket takes without waiting; std::errc::operation_would_block
// when it takes nothing.
IoResult send_without_waiting(const Socket& socket, const std::string& data);
std::error_code shutdown_send(const Socket& socket);
// Closes with a reset (SO_LINGER 0) instead of a FIN.
void close_with_reset(Socket& socket);

IoResult send_to(const Socket& socket, const std::string& data, const Endpoint& to);
// One datagram into `buffer`; `from` is its sender.
IoResult recv_from(const Socket& socket, char* buffer, std::size_t size, Endpoint& from);

}  // namespace sluice::test
