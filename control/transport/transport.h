#pragma once

// The control plane's byte streams. posix_transport.cpp implements them over a Unix
// socket (peer identity from SO_PEERCRED), win_transport.cpp over a named pipe
// (peer identity from GetNamedPipeClientProcessId and the client's token). Errors
// are translated into TransportError here, at the system-call boundary.

#include <chrono>
#include <cstddef>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>

#include "control/protocol/jsonrpc.h"

namespace sluice::transport {

enum class ErrorKind {
  not_running,     // nothing listens at the endpoint
  access_denied,   // the OS refused us the endpoint
  timed_out,       // the peer did not answer in time
  closed,          // the peer went away, or shutdown() was called
  in_use,          // another live server owns the endpoint
  invalid,         // the endpoint itself is unusable (bad name, too long)
  untrusted,       // someone other than the service may be at the endpoint (endpoint_trust.h, pipe_trust.h)
  other,
};

class TransportError : public std::runtime_error {
 public:
  TransportError(ErrorKind kind, const std::string& message) : std::runtime_error(message), kind_(kind) {}
  ErrorKind kind() const { return kind_; }

 private:
  ErrorKind kind_;
};

// Group whose members may administer sluiced on POSIX, besides root.
inline constexpr const char* kAdminGroup = "sluice-admin";

// The Windows service's name in the service control manager: a client trusts the
// process the SCM runs it in (pipe_trust.h).
inline constexpr const char* kWindowsServiceName = "sluice";

class Connection {
 public:
  virtual ~Connection() = default;

  // Reads up to `size` bytes, waiting at most `timeout`; returns 0 at end of stream.
  // Throws TransportError: timed_out when nothing arrived in time, closed after shutdown().
  virtual std::size_t read_some(char* data, std::size_t size, std::chrono::milliseconds timeout) = 0;

  virtual void write_all(std::string_view data, std::chrono::milliseconds timeout) = 0;

  // Who is at the other end, as the OS tells it (server side; a named pipe's client
  // side is told the serving process's pid, a Unix socket's client side nothing).
  virtual const protocol::Caller& peer() const = 0;

  // The same, when the OS tells it before anything was read (server side): a Unix
  // socket's SO_PEERCRED does; a named pipe's client token exists only once the
  // client has written, so there this is nullopt and peer() is asked later.
  virtual std::optional<protocol::Caller> peer_at_accept() const { return std::nullopt; }

  // Thread-safe: wakes a blocked read or write, which then fail with `closed`.
  virtual void shutdown() = 0;
};

class Listener {
 public:
  virtual ~Listener() = default;

  // Waits for the next client; nullptr once close() was called.
  virtual std::unique_ptr<Connection> accept() = 0;

  // Thread-safe: wakes accept() for good.
  virtual void close() = 0;

  virtual const std::string& endpoint() const = 0;
};

// Binds the endpoint. Throws TransportError(in_use) when a live server already owns
// it; a stale endpoint left by a crashed server is reclaimed.
std::unique_ptr<Listener> listen(const std::string& endpoint);

// Connects to the server at `endpoint` once it is trusted: POSIX, the socket and its
// directory (endpoint_trust.h); Windows, the process serving the pipe (pipe_trust.h).
// Otherwise throws TransportError(untrusted) saying who or what was found.
std::unique_ptr<Connection> connect(const std::string& endpoint, std::chrono::milliseconds timeout);

}  // namespace sluice::transport
