// The event-driven control server over the Unix socket: one epoll set holds the
// listening socket, every client and an eventfd that post() and stop() ring.
// Level-triggered, one read per client per wake-up, so a client that sends without
// pause gets its turn like the others and no more.

#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstring>
#include <deque>
#include <mutex>
#include <unordered_map>
#include <vector>

#include <spdlog/spdlog.h>

#include "common/platform/platform.h"
#include "control/transport/event_server.h"
#include "control/transport/posix_listening_socket.h"
#include "control/transport/posted_tasks.h"

namespace sluice::transport {
namespace {

constexpr std::uint64_t kListenerKey = 0;
constexpr std::uint64_t kWakeKey = 1;
constexpr ClientId kFirstClient = 2;
// Read into one buffer shared by every client: an idle client holds none.
constexpr std::size_t kReadChunk = 64 * 1024;
// Accepted per wake-up at most, so a connect flood cannot starve the clients served.
constexpr int kAcceptsPerWake = 64;

[[noreturn]] void fail(const std::string& what) {
  throw TransportError(ErrorKind::other, what + ": " + std::strerror(errno));
}

class EpollEventServer final : public EventServer {
 public:
  explicit EpollEventServer(std::unique_ptr<Listener> listener) : listener_(std::move(listener)) {
    socket_ = dynamic_cast<ListeningSocket*>(listener_.get());
    if (!socket_) throw TransportError(ErrorKind::invalid, "not a listener of this platform's transport");
    epoll_ = ::epoll_create1(EPOLL_CLOEXEC);
    if (epoll_ < 0) fail("epoll_create1");
    wake_ = ::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
    if (wake_ < 0) {
      ::close(epoll_);
      fail("eventfd");
    }
    watch(socket_->native_fd(), EPOLLIN, kListenerKey, EPOLL_CTL_ADD);
    watch(wake_, EPOLLIN, kWakeKey, EPOLL_CTL_ADD);
  }

  ~EpollEventServer() override {
    close_all();
    ::close(wake_);
    ::close(epoll_);
  }

  void run(ServerEvents& events) override {
    events_ = &events;
    std::vector<epoll_event> ready(256);
    auto next_tick = std::chrono::steady_clock::now();
    while (!posted_.stopped()) {
      const int n = ::epoll_wait(epoll_, ready.data(), static_cast<int>(ready.size()),
                                 static_cast<int>(tick_interval.count()));
      if (n < 0 && errno != EINTR) fail("epoll_wait");
      for (int i = 0; i < n; ++i) {
        const std::uint64_t key = ready[i].data.u64;
        if (key == kListenerKey) accept_clients();
        else if (key == kWakeKey) run_posted();
        else on_ready(key, ready[i].events);
        tell_deferred();
      }
      if (const auto now = std::chrono::steady_clock::now(); now >= next_tick) {
        next_tick = now + tick_interval;
        events.tick();
        tell_deferred();
      }
    }
    close_all();
  }

  void stop() override { posted_.stop(); }
  void post(std::function<void()> task) override { posted_.post(std::move(task)); }

  void send(ClientId id, std::string bytes) override {
    Client* client = find(id);
    if (!client || client->closing) return;
    if (client->write_dead) {  // nobody reads it: as good as written
      drained_.push_back(id);
      return;
    }
    if (client->out.empty()) client->out = std::move(bytes);
    else client->out.append(bytes);
    flush(id, *client);
  }

  void set_reading(ClientId id, bool reading) override {
    Client* client = find(id);
    if (!client || client->reading == reading) return;
    client->reading = reading;
    if (reading && client->hung_up) resumed_.push_back(id);
    rewatch(id, *client);
  }

  void close(ClientId id, bool flush_first) override {
    Client* client = find(id);
    if (!client) return;
    if (flush_first && client->out.size() > client->sent) {
      client->closing = true;
      client->reading = false;
      rewatch(id, *client);
      return;
    }
    finish(id);
  }

  const std::string& endpoint() const override { return listener_->endpoint(); }

 private:
  struct Client {
    int fd = -1;
    std::string out;       // queued for the client
    std::size_t sent = 0;  // of `out`, already written
    bool reading = true;
    bool closing = false;  // closes once `out` is written
    // The client hung up while we were not reading: what it sent before is still
    // to be read (its last requests, its flow releases), without epoll, which would
    // report the hang-up again and again.
    bool hung_up = false;
    bool write_dead = false;  // the client reads no more: answers are discarded
    std::uint32_t watched = 0;
  };

  void ring() {
    const std::uint64_t one = 1;
    [[maybe_unused]] auto n = ::write(wake_, &one, sizeof one);
  }

  void watch(int fd, std::uint32_t events, std::uint64_t key, int op) {
    epoll_event ev{};
    ev.events = events;
    ev.data.u64 = key;
    if (::epoll_ctl(epoll_, op, fd, &ev) != 0) fail("epoll_ctl");
  }

  void rewatch(ClientId id, Client& client) {
    if (client.hung_up) return;
    std::uint32_t wanted = (client.reading ? EPOLLIN : 0u) | (client.out.size() > client.sent ? EPOLLOUT : 0u);
    if (wanted == client.watched) return;
    client.watched = wanted;
    watch(client.fd, wanted, id, EPOLL_CTL_MOD);
  }

  Client* find(ClientId id) {
    auto it = clients_.find(id);
    return it == clients_.end() ? nullptr : &it->second;
  }

  void accept_clients() {
    for (int i = 0; i < kAcceptsPerWake; ++i) {
      std::optional<AcceptedSocket> accepted;
      try {
        accepted = socket_->accept_pending();
      } catch (const std::exception& e) {
        SPDLOG_ERROR("control: accept failed on {}: {}", endpoint(), e.what());
        return;
      }
      if (!accepted) return;
      const ClientId id = next_id_++;
      Client& client = clients_[id];
      client.fd = accepted->fd;
      client.watched = EPOLLIN;
      try {
        watch(client.fd, EPOLLIN, id, EPOLL_CTL_ADD);
      } catch (const TransportError& e) {
        SPDLOG_ERROR("control: cannot watch a client: {}", e.what());
        platform::close_process_handle(accepted->caller.process_handle);
        ::close(client.fd);
        clients_.erase(id);
        continue;
      }
      events_->connected(id);
      events_->identified(id, std::move(accepted->caller));
      tell_deferred();
    }
  }

  void run_posted() {
    std::uint64_t count;
    [[maybe_unused]] auto n = ::read(wake_, &count, sizeof count);
    posted_.run([this] { tell_deferred(); });
  }

  void on_ready(ClientId id, std::uint32_t what) {
    Client* client = find(id);
    if (!client) return;
    if (what & EPOLLOUT) {
      flush(id, *client);
      client = find(id);
      if (!client) return;
    }
    if ((what & (EPOLLHUP | EPOLLERR)) && !client->reading) {
      ::epoll_ctl(epoll_, EPOLL_CTL_DEL, client->fd, nullptr);
      client->hung_up = true;
      return;
    }
    if (!(what & (EPOLLIN | EPOLLHUP | EPOLLERR)) || !client->reading) return;
    read_once(id, *client);
  }

  void read_once(ClientId id, Client& client) {
    const ssize_t n = ::recv(client.fd, buffer_, sizeof buffer_, 0);
    if (n > 0) {
      events_->received(id, std::string_view(buffer_, static_cast<std::size_t>(n)));
      return;
    }
    if (n < 0 && (errno == EAGAIN || errno == EINTR) && !client.hung_up) return;
    finish(id);  // end of stream, or the peer reset
  }

  void flush(ClientId id, Client& client) {
    while (client.out.size() > client.sent) {
      const ssize_t n = ::send(client.fd, client.out.data() + client.sent, client.out.size() - client.sent,
                               MSG_NOSIGNAL | MSG_DONTWAIT);
      if (n > 0) {
        client.sent += static_cast<std::size_t>(n);
        continue;
      }
      if (n < 0 && errno == EINTR) continue;
      if (n < 0 && errno == EAGAIN) {
        rewatch(id, client);
        return;
      }
      // EPIPE, ECONNRESET: the client reads no more. What it sent before it left is
      // still read and carried out; the end of that input closes it.
      if (client.closing) {
        finish(id);
        return;
      }
      client.write_dead = true;
      break;
    }
    client.out.clear();
    client.out.shrink_to_fit();  // a large answer's buffer is not kept by an idle client
    client.sent = 0;
    if (client.closing) {
      finish(id);
      return;
    }
    rewatch(id, client);
    drained_.push_back(id);
  }

  // Closes the client's socket now; the owner hears of it after the current callback.
  void finish(ClientId id) {
    auto it = clients_.find(id);
    if (it == clients_.end()) return;
    const int fd = it->second.fd;
    ::epoll_ctl(epoll_, EPOLL_CTL_DEL, fd, nullptr);
    // Closing with the client's last request unread could reset the connection before
    // it read our last answer (such as a refusal): take what has arrived first.
    char sink[4096];
    for (int i = 0; i < 16 && ::recv(fd, sink, sizeof sink, MSG_DONTWAIT) > 0; ++i) {
    }
    ::close(fd);
    clients_.erase(it);
    gone_.push_back(id);
  }

  void tell_deferred() {
    while (!drained_.empty() || !gone_.empty() || !resumed_.empty()) {
      std::vector<ClientId> drained, gone, resumed;
      drained.swap(drained_);
      gone.swap(gone_);
      resumed.swap(resumed_);
      for (ClientId id : resumed) {
        Client* client = find(id);
        if (!client || !client->reading) continue;
        read_once(id, *client);
        if ((client = find(id)) && client->reading) resumed_.push_back(id);  // until the end of its input
      }
      for (ClientId id : drained) {
        if (clients_.count(id)) events_->drained(id);
      }
      for (ClientId id : gone) events_->disconnected(id);
    }
  }

  void close_all() {
    for (auto& [id, client] : clients_) ::close(client.fd);
    clients_.clear();
    drained_.clear();
    gone_.clear();
    resumed_.clear();
    listener_->close();
  }

  std::unique_ptr<Listener> listener_;
  ListeningSocket* socket_ = nullptr;
  int epoll_ = -1;
  int wake_ = -1;
  ServerEvents* events_ = nullptr;
  std::unordered_map<ClientId, Client> clients_;
  ClientId next_id_ = kFirstClient;
  std::vector<ClientId> drained_, gone_, resumed_;
  PostedTasks posted_{[this] { ring(); }};
  char buffer_[kReadChunk];
};

}  // namespace

std::unique_ptr<EventServer> make_event_server(std::unique_ptr<Listener> listener) {
  return std::make_unique<EpollEventServer>(std::move(listener));
}

}  // namespace sluice::transport
