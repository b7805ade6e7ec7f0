#pragma once

// One provider's byte stream to sluiced, as the registration client (service_client.h)
// uses it: the preload provider's Unix socket on a raw descriptor, the LSP's named
// pipe. Its calls are made with the client's lock held, never concurrently; none
// throws, and every wait ends by the deadline given.

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <string>

namespace sluice::provider {

class ServiceChannel {
 public:
  using Clock = std::chrono::steady_clock;
  virtual ~ServiceChannel() = default;

  // Whether a connection is open (kept from an earlier call, and still the channel's own).
  virtual bool is_open() = 0;
  // Opens a connection unless one is open. `absent`, if given, is set when nothing
  // listens at the endpoint or what listens is not trusted (rather than a listener
  // too busy to accept by the deadline).
  virtual bool connect(Clock::time_point deadline, bool* absent) = 0;
  virtual bool send(const std::string& bytes, Clock::time_point deadline) = 0;
  // Some bytes into `buffer` (*received of them); false at end of stream, on an
  // error, or when nothing came by the deadline.
  virtual bool receive(char* buffer, std::size_t size, std::size_t* received, Clock::time_point deadline) = 0;
  virtual void disconnect() = 0;
  // Whether the open connection was hung up by the service, looked at without waiting.
  virtual bool hung_up() = 0;
  // The service process at the other end of the open connection (its pid), 0 when
  // the system does not say.
  virtual std::int64_t service_instance() = 0;
};

}  // namespace sluice::provider
