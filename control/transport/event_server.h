#pragma once

// The server side of the control transport, event-driven: one thread waits on every
// client at once (epoll over the Unix socket in posix_event_server.cpp, an I/O
// completion port over named-pipe instances in win_event_server.cpp), so a provider
// installed machine-wide, one connection per process, costs a descriptor and a few
// hundred bytes per process instead of a thread each.
//
// Everything but post() and stop() is for the server's own thread, the one in run();
// ServerEvents are called there too, never from inside send(), set_reading() or
// close(): what those cause (drained, disconnected) is told after the current
// callback returns.

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>

#include "control/protocol/jsonrpc.h"
#include "control/transport/transport.h"

namespace sluice::transport {

using ClientId = std::uint64_t;

class ServerEvents {
 public:
  virtual ~ServerEvents() = default;
  // A client connected. Reading starts at once.
  virtual void connected(ClientId client) = 0;
  // Who the client is, as the OS tells it: at accept on a Unix socket (SO_PEERCRED);
  // with its first bytes on a named pipe (the client's token exists only once it has
  // written), then always before those bytes are received. The receiver owns
  // caller.process_handle and closes it (platform::close_process_handle).
  virtual void identified(ClientId client, protocol::Caller caller) = 0;
  virtual void received(ClientId client, std::string_view bytes) = 0;
  // Everything sent to the client so far has been written.
  virtual void drained(ClientId client) = 0;
  // The client is gone (hang-up, error, or close() done): its last event.
  virtual void disconnected(ClientId client) = 0;
  // At least every tick_interval: for the owner's deadlines.
  virtual void tick() = 0;
};

class EventServer {
 public:
  static constexpr std::chrono::milliseconds tick_interval{100};

  virtual ~EventServer() = default;

  // Serves until stop(), on the calling thread; then closes every client (without
  // telling the events: the owner is shutting down too).
  virtual void run(ServerEvents& events) = 0;
  // Any thread; idempotent. run() returns soon after.
  virtual void stop() = 0;
  // Any thread: runs `task` on the server's thread; dropped once stopped.
  virtual void post(std::function<void()> task) = 0;

  // Queues bytes for the client; drained() tells when they are all written.
  virtual void send(ClientId client, std::string bytes) = 0;
  // Whether to read from the client: the owner stops while it handles a request, so
  // a client cannot make it buffer more than one.
  virtual void set_reading(ClientId client, bool reading) = 0;
  // Closes the client: at once, or once what was sent is written (the owner bounds
  // how long that may take by closing again without flushing).
  virtual void close(ClientId client, bool flush_first) = 0;

  virtual const std::string& endpoint() const = 0;
};

// Serves the clients of `listener`, which must be one that listen() returned.
std::unique_ptr<EventServer> make_event_server(std::unique_ptr<Listener> listener);

}  // namespace sluice::transport
