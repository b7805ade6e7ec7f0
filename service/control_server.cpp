#include "service/control_server.h"

#include <system_error>

#include <spdlog/spdlog.h>

#include "control/transport/framing.h"

namespace sluice::service {

using protocol::json;

ControlServer::ControlServer(std::unique_ptr<transport::Listener> listener, const protocol::Dispatcher& dispatcher,
                             ControlServerLimits limits)
    : listener_(std::move(listener)), dispatcher_(dispatcher), limits_(limits) {}

ControlServer::~ControlServer() { stop(); }

void ControlServer::start() { accept_thread_ = std::thread([this] { accept_loop(); }); }

void ControlServer::stop() {
  if (stopping_.exchange(true)) return;
  listener_->close();
  if (accept_thread_.joinable()) accept_thread_.join();
  std::list<Client> clients;
  {
    std::lock_guard lock(clients_mutex_);
    for (auto& client : clients_) {
      if (client.connection) client.connection->shutdown();
    }
    clients.swap(clients_);
  }
  for (auto& client : clients) {
    if (client.thread.joinable()) client.thread.join();
  }
}

ControlServerCounters ControlServer::counters() const {
  ControlServerCounters c;
  c.clients_accepted = accepted_.load();
  c.clients_refused = refused_.load();
  c.clients_refused_per_user = refused_per_user_.load();
  c.clients_refused_reserve = refused_reserve_.load();
  c.requests = requests_.load();
  c.protocol_errors = protocol_errors_.load();
  {
    std::lock_guard lock(clients_mutex_);
    for (const auto& client : clients_) c.clients_connected += client.finished.load() ? 0 : 1;
  }
  return c;
}

void ControlServer::reap_finished_clients() {
  std::lock_guard lock(clients_mutex_);
  for (auto it = clients_.begin(); it != clients_.end();) {
    if (it->finished.load()) {
      it->thread.join();
      it = clients_.erase(it);
    } else {
      ++it;
    }
  }
}

namespace {

std::string user_key(const protocol::Caller& caller) {
  return caller.uid >= 0 ? "uid " + std::to_string(caller.uid) : caller.account;
}

std::string user_name(const protocol::Caller& caller) {
  if (!caller.account.empty()) return caller.account;
  return caller.uid >= 0 ? "uid " + std::to_string(caller.uid) : std::string("an unidentified user");
}

}  // namespace

json ControlServer::admission_refusal(const protocol::Caller* caller, const Client* self) {
  std::size_t total = 0, not_administrators = 0, same_user = 0;
  const std::string key = caller ? user_key(*caller) : std::string();
  for (const auto& client : clients_) {
    if (&client == self || client.finished.load()) continue;
    ++total;
    // A client not yet identified may turn out not to be an administrator.
    if (!client.identified || !client.administrator) ++not_administrators;
    if (caller && client.identified && client.user == key) ++same_user;
  }
  if (total >= limits_.max_clients) {
    return protocol::make_error_response(
        nullptr, protocol::kServerBusy,
        "too many clients: sluiced serves at most " + std::to_string(limits_.max_clients) + " connections at once",
        json{{"limit", limits_.max_clients}});
  }
  if (!caller || caller->administrator) return nullptr;
  if (same_user >= limits_.max_clients_per_user) {
    ++refused_per_user_;
    return protocol::make_error_response(
        nullptr, protocol::kServerBusy,
        "too many connections from " + user_name(*caller) + ": at most " + std::to_string(limits_.max_clients_per_user) +
            " per user who is not an administrator",
        json{{"limit", limits_.max_clients_per_user}, {"user", user_name(*caller)}});
  }
  const std::size_t shared = limits_.max_clients > limits_.administrator_reserve
                                 ? limits_.max_clients - limits_.administrator_reserve
                                 : 0;
  if (not_administrators >= shared) {
    ++refused_reserve_;
    return protocol::make_error_response(
        nullptr, protocol::kServerBusy,
        "the service is busy: users who are not administrators hold all " + std::to_string(shared) +
            " connections open to them (the last " + std::to_string(limits_.administrator_reserve) + " of " +
            std::to_string(limits_.max_clients) + " are kept for administrators)",
        json{{"limit", shared}});
  }
  return nullptr;
}

void ControlServer::refuse(transport::Connection& connection, const json& error) {
  ++refused_;
  SPDLOG_WARN("control: refusing a client (pid {}): {}", connection.peer_at_accept() ? connection.peer().pid : -1,
              error["error"]["message"].get<std::string>());
  try {
    transport::write_frame(connection, error.dump(), limits_.write_timeout);
  } catch (const std::exception&) {
  }
}

void ControlServer::accept_loop() {
  while (!stopping_.load()) {
    std::unique_ptr<transport::Connection> connection;
    try {
      connection = listener_->accept();
    } catch (const std::exception& e) {
      SPDLOG_ERROR("control: accept failed on {}: {}", listener_->endpoint(), e.what());
      // Whatever failed (descriptors, memory) is not fixed by asking again at once.
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
      continue;
    }
    if (!connection) break;
    reap_finished_clients();

    const std::optional<protocol::Caller> who = connection->peer_at_accept();
    std::lock_guard lock(clients_mutex_);
    if (json refusal = admission_refusal(who ? &*who : nullptr, nullptr); !refusal.is_null()) {
      refuse(*connection, refusal);
      continue;
    }
    Client& client = clients_.emplace_back();
    client.connection = std::move(connection);
    if (who) {
      client.identified = true;
      client.administrator = who->administrator;
      client.user = user_key(*who);
    }
    try {
      client.thread = std::thread([this, &client, connection = client.connection] {
        serve(client, *connection);
        // Hang up now, not when the thread is reaped: the client must see the close.
        {
          std::lock_guard lock(clients_mutex_);
          client.connection.reset();
        }
        client.finished.store(true);
      });
    } catch (const std::system_error& e) {
      // Out of threads (or memory for a stack): this client is told, the service goes on.
      auto refused = std::move(client.connection);
      clients_.pop_back();
      refuse(*refused, protocol::make_error_response(nullptr, protocol::kServerBusy,
                                                     std::string("the service cannot take a client now: ") + e.what()));
      continue;
    }
    ++accepted_;
  }
}

void ControlServer::serve(Client& client, transport::Connection& connection) {
  protocol::FrameDecoder decoder;
  for (;;) {
    std::optional<std::string> payload;
    try {
      payload = transport::read_frame(connection, decoder, limits_.idle_timeout, limits_.frame_timeout);
    } catch (const protocol::FrameTooLarge& e) {
      // Framing is lost after a bad header: answer once, then close.
      ++protocol_errors_;
      SPDLOG_WARN("control: {} (pid {}); closing", e.what(), connection.peer().pid);
      try {
        transport::write_frame(connection, protocol::make_error_response(nullptr, protocol::kInvalidRequest, e.what()).dump(),
                               limits_.write_timeout);
      } catch (const std::exception&) {
      }
      return;
    } catch (const transport::TransportError& e) {
      if (e.kind() != transport::ErrorKind::closed || !stopping_.load()) {
        ++protocol_errors_;
        SPDLOG_DEBUG("control: client dropped: {}", e.what());
      }
      return;
    }
    if (!payload) return;  // clean end of stream
    {
      // A client the transport could not name at accept is checked now that it has
      // written (a named pipe's client token); it then counts against its user.
      std::unique_lock lock(clients_mutex_);
      if (!client.identified) {
        const protocol::Caller& caller = connection.peer();
        if (json refusal = admission_refusal(&caller, &client); !refusal.is_null()) {
          lock.unlock();
          refuse(connection, refusal);
          return;
        }
        client.identified = true;
        client.administrator = caller.administrator;
        client.user = user_key(caller);
      }
    }
    ++requests_;
    std::string response = dispatcher_.handle(*payload, connection.peer());
    if (response.empty()) continue;
    try {
      // The dispatcher bounds its answers to the frame limit as it builds them.
      transport::write_frame(connection, response, limits_.write_timeout);
    } catch (const transport::TransportError& e) {
      SPDLOG_DEBUG("control: cannot answer client: {}", e.what());
      return;
    }
  }
}

}  // namespace sluice::service
