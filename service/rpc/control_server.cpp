#include "service/rpc/control_server.h"

#include <spdlog/spdlog.h>

#include "common/platform/platform.h"

namespace sluice::service {

using protocol::json;
using transport::ClientId;

struct ControlServer::HeldCaller {
  explicit HeldCaller(protocol::Caller c) : caller(std::move(c)) {}
  ~HeldCaller() { platform::close_process_handle(caller.process_handle); }
  HeldCaller(const HeldCaller&) = delete;
  HeldCaller& operator=(const HeldCaller&) = delete;
  protocol::Caller caller;
};

namespace {

std::string user_key(const protocol::Caller& caller) {
  return caller.uid >= 0 ? "uid " + std::to_string(caller.uid) : caller.account;
}

std::string user_name(const protocol::Caller& caller) {
  if (!caller.account.empty()) return caller.account;
  return caller.uid >= 0 ? "uid " + std::to_string(caller.uid) : std::string("an unidentified user");
}

}  // namespace

ControlServer::ControlServer(std::unique_ptr<transport::Listener> listener, const protocol::Dispatcher& dispatcher,
                             ControlServerLimits limits)
    : server_(transport::make_event_server(std::move(listener))), dispatcher_(dispatcher), limits_(limits) {}

ControlServer::~ControlServer() { stop(); }

void ControlServer::start() {
  const std::size_t threads = std::max<std::size_t>(1, limits_.dispatch_threads);
  for (std::size_t i = 0; i < threads; ++i) dispatch_threads_.emplace_back([this] { dispatch_loop(); });
  event_thread_ = std::thread([this] {
    try {
      server_->run(*this);
    } catch (const std::exception& e) {
      // Nothing is served any more: say so loudly rather than end the process here.
      SPDLOG_CRITICAL("control: the control plane on {} stopped: {}", server_->endpoint(), e.what());
    }
  });
}

void ControlServer::stop() {
  if (stopping_.exchange(true)) return;
  server_->stop();
  if (event_thread_.joinable()) event_thread_.join();
  {
    std::lock_guard lock(jobs_mutex_);
    jobs_closed_ = true;
    jobs_.clear();
    administrator_jobs_.clear();
  }
  jobs_ready_.notify_all();
  for (auto& thread : dispatch_threads_) thread.join();
  dispatch_threads_.clear();
  clients_.clear();
}

ControlServerCounters ControlServer::counters() const {
  ControlServerCounters c;
  c.clients_accepted = accepted_.load();
  c.clients_refused = refused_.load();
  c.clients_refused_per_user = refused_per_user_.load();
  c.clients_refused_reserve = refused_reserve_.load();
  c.requests = requests_.load();
  c.protocol_errors = protocol_errors_.load();
  c.clients_connected = connected_.load();
  return c;
}

json ControlServer::admission_refusal(const protocol::Caller* caller, ClientId self) {
  std::size_t total = 0, not_administrators = 0, same_user = 0;
  const std::string key = caller ? user_key(*caller) : std::string();
  // A walk over the clients, once per connect (and per first request on a pipe):
  // a few thousand entries, on the event thread, against a connect's system calls.
  for (const auto& [id, client] : clients_) {
    if (id == self || client.closing) continue;
    ++total;
    // A client not yet identified may turn out not to be an administrator.
    if (!client.caller || !client.administrator) ++not_administrators;
    if (caller && client.caller && client.user == key) ++same_user;
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

// Counted out at once; the refusal is written within the write timeout, then closed.
void ControlServer::refuse(ClientId id, Client& client, const json& error) {
  ++refused_;
  log_refusal(client.caller ? client.caller->caller.pid : -1, error["error"]["message"].get<std::string>());
  drop(id, client, /*protocol_error=*/false);
  client.write_deadline = Clock::now() + limits_.write_timeout;
  server_->send(id, protocol::encode_frame(error.dump()));
  server_->close(id, /*flush_first=*/true);
}

// A flood of refused clients must not flood the log as well: a few a second are
// logged one by one, the rest counted and logged as a number.
void ControlServer::log_refusal(std::int64_t pid, const std::string& message) {
  log_refusals_left_out(Clock::now());
  if (refusals_logged_ < kRefusalsLoggedPerSecond) {
    ++refusals_logged_;
    SPDLOG_WARN("control: refusing a client (pid {}): {}", pid, message);
  } else {
    ++refusals_left_out_;
  }
}

void ControlServer::log_refusals_left_out(Clock::time_point now) {
  if (now - refusal_log_second_ < std::chrono::seconds(1)) return;
  if (refusals_left_out_ > 0) {
    SPDLOG_WARN("control: refused {} more clients in the last second (not logged one by one)", refusals_left_out_);
  }
  refusal_log_second_ = now;
  refusals_logged_ = 0;
  refusals_left_out_ = 0;
}

void ControlServer::drop(ClientId id, Client& client, bool protocol_error) {
  if (protocol_error) ++protocol_errors_;
  if (!client.closing) {
    client.closing = true;
    --connected_;
  }
  server_->set_reading(id, false);
}

void ControlServer::connected(ClientId id) {
  Client& client = clients_[id];
  client.idle_deadline = Clock::now() + limits_.idle_timeout;
  ++connected_;
  if (json refusal = admission_refusal(nullptr, id); !refusal.is_null()) {
    refuse(id, client, refusal);
    return;
  }
  ++accepted_;
}

void ControlServer::identified(ClientId id, protocol::Caller caller) {
  auto held = std::make_shared<const HeldCaller>(std::move(caller));
  auto it = clients_.find(id);
  if (it == clients_.end()) return;
  Client& client = it->second;
  if (client.closing) return;
  // Checked now that the transport named it; it then counts against its user.
  if (json refusal = admission_refusal(&held->caller, id); !refusal.is_null()) {
    client.caller = held;
    --accepted_;  // it was let in only provisionally
    refuse(id, client, refusal);
    return;
  }
  client.administrator = held->caller.administrator;
  client.user = user_key(held->caller);
  client.caller = std::move(held);
}

void ControlServer::received(ClientId id, std::string_view bytes) {
  auto it = clients_.find(id);
  if (it == clients_.end() || it->second.closing) return;
  Client& client = it->second;
  client.decoder.feed(bytes);
  if (!client.frame_deadline && client.decoder.has_partial()) client.frame_deadline = Clock::now() + limits_.frame_timeout;
  take_next_request(id, client);
}

void ControlServer::take_next_request(ClientId id, Client& client) {
  if (client.busy || client.closing) return;
  std::string payload;
  try {
    if (!client.decoder.next(payload)) {
      server_->set_reading(id, true);
      return;
    }
  } catch (const protocol::FrameTooLarge& e) {
    // Framing is lost after a bad header: answer once, then close.
    SPDLOG_WARN("control: {} (pid {}); closing", e.what(), client.caller ? client.caller->caller.pid : -1);
    drop(id, client, /*protocol_error=*/true);
    client.write_deadline = Clock::now() + limits_.write_timeout;
    server_->send(id, protocol::encode_frame(protocol::make_error_response(nullptr, protocol::kInvalidRequest, e.what()).dump()));
    server_->close(id, /*flush_first=*/true);
    return;
  }
  client.frame_deadline.reset();
  if (client.decoder.has_partial()) client.frame_deadline = Clock::now() + limits_.frame_timeout;
  client.busy = true;
  server_->set_reading(id, false);
  if (!client.caller) client.caller = std::make_shared<const HeldCaller>(protocol::Caller{});  // the OS named nobody
  ++requests_;
  {
    std::lock_guard lock(jobs_mutex_);
    (client.administrator ? administrator_jobs_ : jobs_).push_back(Job{id, std::move(payload), client.caller});
  }
  jobs_ready_.notify_one();
}

void ControlServer::dispatch_loop() {
  for (;;) {
    Job job;
    {
      std::unique_lock lock(jobs_mutex_);
      jobs_ready_.wait(lock, [this] { return jobs_closed_ || !administrator_jobs_.empty() || !jobs_.empty(); });
      if (jobs_closed_) return;
      auto& queue = administrator_jobs_.empty() ? jobs_ : administrator_jobs_;
      job = std::move(queue.front());
      queue.pop_front();
    }
    std::string response;
    try {
      response = dispatcher_.handle(job.payload, job.caller->caller);
    } catch (const std::exception& e) {
      // The dispatcher answers handler failures itself; this is what it could not.
      response = protocol::make_error_response(nullptr, protocol::kInternalError, e.what()).dump();
    }
    server_->post([this, id = job.client, response = std::move(response)] { answered(id, response); });
  }
}

void ControlServer::answered(ClientId id, const std::string& response) {
  auto it = clients_.find(id);
  if (it == clients_.end() || it->second.closing) return;  // the client left meanwhile
  Client& client = it->second;
  if (response.empty()) {  // a notification: nothing goes back
    client.busy = false;
    client.idle_deadline = Clock::now() + limits_.idle_timeout;
    take_next_request(id, client);
    return;
  }
  std::string frame;
  try {
    // The dispatcher bounds its answers to the frame limit as it builds them.
    frame = protocol::encode_frame(response);
  } catch (const protocol::FrameTooLarge& e) {
    frame = protocol::encode_frame(protocol::make_error_response(nullptr, protocol::kInternalError, e.what()).dump());
  }
  client.write_deadline = Clock::now() + limits_.write_timeout;
  server_->send(id, std::move(frame));
}

void ControlServer::drained(ClientId id) {
  auto it = clients_.find(id);
  if (it == clients_.end() || it->second.closing || !it->second.busy) return;
  Client& client = it->second;
  client.busy = false;
  client.write_deadline.reset();
  client.idle_deadline = Clock::now() + limits_.idle_timeout;
  take_next_request(id, client);
}

void ControlServer::disconnected(ClientId id) {
  auto it = clients_.find(id);
  if (it == clients_.end()) return;
  Client& client = it->second;
  if (!client.closing) {
    --connected_;
    if (client.decoder.has_partial()) {
      ++protocol_errors_;
      SPDLOG_DEBUG("control: client dropped in the middle of a frame");
    }
  }
  clients_.erase(it);
}

void ControlServer::tick() {
  const auto now = Clock::now();
  log_refusals_left_out(now);
  std::vector<ClientId> expired;
  for (auto& [id, client] : clients_) {
    if (client.write_deadline) {
      if (now >= *client.write_deadline) expired.push_back(id);  // not reading its answer
    } else if (client.busy) {
      continue;  // being handled: the dispatcher's time, not the client's
    } else if (client.frame_deadline ? now >= *client.frame_deadline : now >= client.idle_deadline) {
      expired.push_back(id);
    }
  }
  for (ClientId id : expired) {
    Client& client = clients_.at(id);
    SPDLOG_DEBUG("control: client {} timed out", id);
    if (!client.closing) drop(id, client, /*protocol_error=*/true);
    server_->close(id, /*flush_first=*/false);
  }
}

}  // namespace sluice::service
