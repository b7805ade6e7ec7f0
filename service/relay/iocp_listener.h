#pragma once

// A loopback TCP listener of the IOCP backend: several AcceptEx kept outstanding so
// a burst of connections does not wait for one accept at a time, each accepted
// socket handed to `on_accept` on a worker thread.

#include <array>
#include <chrono>
#include <condition_variable>
#include <functional>
#include <memory>
#include <mutex>

#include "net/win_socket.h"
#include "service/relay/iocp_port.h"

namespace sluice::relay::iocp {

class Listener final : public CompletionTarget {
 public:
  using AcceptHandler = std::function<void(net::win::Socket accepted)>;

  // Binds and listens on `address` (port 0: an ephemeral one). nullptr when the
  // machine lacks the address's family (no ::1); throws std::system_error otherwise.
  // `inline_completions`: see EngineConfig.
  static std::unique_ptr<Listener> open(Port& port, const net::Endpoint& address, bool inline_completions,
                                        AcceptHandler on_accept);
  ~Listener();

  net::Endpoint address() const { return address_; }
  // Starts the accepts (on a worker, like every operation).
  void start();
  // Closes the listening socket: the outstanding accepts come back cancelled.
  void close();
  // Waits (up to `bound`) until no accept is outstanding; false when some still are.
  bool wait_drained(std::chrono::milliseconds bound);

  void on_completion(Operation& operation, DWORD bytes, bool succeeded) override;

 private:
  static constexpr std::size_t kAccepts = 8;
  struct Accept {
    Operation operation;
    net::win::Socket socket;  // the socket AcceptEx fills
    char addresses[net::win::kAcceptAddressBytes];
    bool outstanding = false;
  };

  Listener(Port& port, net::win::Socket socket, AcceptHandler on_accept);
  // Takes what accept `a` brought (`result`: 0 or its error; kNoResult when it has
  // not run yet) and starts it again, as long as accepts complete inline (up to a
  // budget).
  static constexpr int kNoResult = -1;
  void cycle(Accept& a, int result);
  Accept& accept_of(Operation& operation);

  Port& port_;
  AcceptHandler on_accept_;
  net::Endpoint address_;
  int family_;
  std::mutex mutex_;
  std::condition_variable drained_;
  net::win::Socket socket_;
  std::array<Accept, kAccepts> accepts_;
  int outstanding_ = 0;
  bool closed_ = false;
};

}  // namespace sluice::relay::iocp
