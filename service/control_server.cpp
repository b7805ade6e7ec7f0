#include "service/control_server.h"

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

void ControlServer::accept_loop() {
  while (!stopping_.load()) {
    std::unique_ptr<transport::Connection> connection;
    try {
      connection = listener_->accept();
    } catch (const std::exception& e) {
      SPDLOG_ERROR("control: accept failed on {}: {}", listener_->endpoint(), e.what());
      continue;
    }
    if (!connection) break;
    reap_finished_clients();

    std::lock_guard lock(clients_mutex_);
    if (clients_.size() >= limits_.max_clients) {
      ++refused_;
      SPDLOG_WARN("control: refusing a client, {} clients already connected", clients_.size());
      try {
        transport::write_frame(*connection,
                               protocol::make_error_response(nullptr, protocol::kServerBusy, "too many clients").dump(),
                               limits_.write_timeout);
      } catch (const std::exception&) {
      }
      continue;
    }
    ++accepted_;
    Client& client = clients_.emplace_back();
    client.connection = std::move(connection);
    client.thread = std::thread([this, &client, connection = client.connection] {
      serve(*connection);
      // Hang up now, not when the thread is reaped: the client must see the close.
      {
        std::lock_guard lock(clients_mutex_);
        client.connection.reset();
      }
      client.finished.store(true);
    });
  }
}

void ControlServer::serve(transport::Connection& connection) {
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
