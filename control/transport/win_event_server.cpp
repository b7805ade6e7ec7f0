// The event-driven control server over the named pipe: every pipe instance's
// overlapped ConnectNamedPipe, ReadFile and WriteFile complete on one I/O completion
// port, which post() and stop() also wake. A few instances always wait for clients,
// so a burst of connects finds one (ERROR_PIPE_BUSY would make clients wait).
//
// The kernel owns an OVERLAPPED and its buffer until the operation's completion
// arrives, also after CancelIoEx: an instance is freed only once none is pending.

#include <windows.h>

#include <atomic>
#include <deque>
#include <memory>
#include <mutex>
#include <unordered_map>
#include <utility>
#include <vector>

#include <spdlog/spdlog.h>

#include "common/platform/platform.h"
#include "common/platform/win_strings.h"
#include "control/transport/event_server.h"
#include "control/transport/posted_tasks.h"
#include "control/transport/win_pipe_instances.h"

namespace sluice::transport {
namespace {

constexpr ULONG_PTR kIoKey = 0;
constexpr ULONG_PTR kWakeKey = 1;
constexpr std::size_t kListeningInstances = 4;
// Each client has a read outstanding while idle, so its buffer is per client: small.
constexpr DWORD kReadChunk = 4 * 1024;

enum class OpKind { connect, read, write };

struct Instance;

struct Op {
  OVERLAPPED ov{};
  OpKind kind;
  Instance* instance;
};

struct Instance {
  explicit Instance(HANDLE h, ClientId i)
      : handle(h), id(i), connect_op{{}, OpKind::connect, this}, read_op{{}, OpKind::read, this},
        write_op{{}, OpKind::write, this} {}
  ~Instance() {
    if (!identified) platform::close_process_handle(caller.process_handle);
    CloseHandle(handle);
  }
  Instance(const Instance&) = delete;
  Instance& operator=(const Instance&) = delete;

  HANDLE handle;
  ClientId id;
  Op connect_op, read_op, write_op;
  int pending = 0;            // operations the kernel still owns
  bool connected = false;     // a client, not a listening instance
  bool identified = false;    // the caller was handed to the events
  bool reading = true;
  bool closing = false;       // closes once `out` is written
  bool finished = false;      // closed for the owner; freed once nothing is pending
  bool read_active = false;
  bool write_active = false;
  // The client reads no more: answers are discarded, while what it wrote before it
  // left (its last requests, its flow releases) is still read and carried out.
  bool write_dead = false;
  std::string out;
  std::size_t sent = 0;
  protocol::Caller caller;    // the process, pinned at connect
  char buffer[kReadChunk];
};

class IocpEventServer final : public EventServer {
 public:
  explicit IocpEventServer(std::unique_ptr<Listener> listener) : listener_(std::move(listener)) {
    pipes_ = dynamic_cast<PipeInstances*>(listener_.get());
    if (!pipes_) throw TransportError(ErrorKind::invalid, "not a listener of this platform's transport");
    port_ = CreateIoCompletionPort(INVALID_HANDLE_VALUE, nullptr, 0, 1);
    if (!port_) throw TransportError(ErrorKind::other, "CreateIoCompletionPort: " + platform::win32_error_text(GetLastError()));
    first_instance_ = pipes_->take_first_instance();
  }

  ~IocpEventServer() override {
    if (first_instance_) CloseHandle(first_instance_);
    close_all();
    CloseHandle(port_);
  }

  void run(ServerEvents& events) override {
    events_ = &events;
    if (first_instance_) listen_on(std::exchange(first_instance_, nullptr));
    auto next_tick = std::chrono::steady_clock::now();
    OVERLAPPED_ENTRY entries[64];
    while (!posted_.stopped()) {
      replenish_listening();
      ULONG count = 0;
      if (GetQueuedCompletionStatusEx(port_, entries, 64, &count, static_cast<DWORD>(tick_interval.count()), FALSE)) {
        for (ULONG i = 0; i < count; ++i) {
          if (entries[i].lpCompletionKey == kWakeKey) run_posted();
          else complete(*reinterpret_cast<Op*>(entries[i].lpOverlapped), entries[i].dwNumberOfBytesTransferred);
          tell_deferred();
        }
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
    Instance* client = find(id);
    if (!client || client->closing) return;
    if (client->write_dead) {  // nobody reads it: as good as written
      drained_.push_back(id);
      return;
    }
    client->out.append(bytes);
    if (!client->write_active) start_write(*client);
  }

  void set_reading(ClientId id, bool reading) override {
    Instance* client = find(id);
    if (!client) return;
    client->reading = reading;
    if (reading && !client->read_active && !client->closing) start_read(*client);
  }

  void close(ClientId id, bool flush_first) override {
    Instance* client = find(id);
    if (!client) return;
    client->reading = false;
    if (flush_first && client->out.size() > client->sent) {
      client->closing = true;
      return;
    }
    finish(*client);
  }

  const std::string& endpoint() const override { return listener_->endpoint(); }

 private:
  Instance* find(ClientId id) {
    auto it = instances_.find(id);
    if (it == instances_.end() || !it->second->connected || it->second->finished) return nullptr;
    return it->second.get();
  }

  void listen_on(HANDLE handle) {
    const ClientId id = next_id_++;
    auto instance = std::make_unique<Instance>(handle, id);
    if (!CreateIoCompletionPort(handle, port_, kIoKey, 0)) {
      SPDLOG_ERROR("control: cannot watch a pipe instance: {}", platform::win32_error_text(GetLastError()));
      return;
    }
    Instance& i = *instance;
    instances_.emplace(id, std::move(instance));
    ++listening_;
    start_connect(i);
  }

  // Also called the moment a listening instance gets a client, before that client
  // can leave and its instance be closed: a pipe name exists only while one of its
  // instances does, and a client finding none is told sluiced is not running. (A
  // nested call, from a new instance that connected at once, leaves the topping up
  // to the outer loop.)
  void replenish_listening() {
    if (replenishing_) return;
    replenishing_ = true;
    struct Done { bool& flag; ~Done() { flag = false; } } done{replenishing_};
    while (listening_ < kListeningInstances && !posted_.stopped()) {
      HANDLE handle = nullptr;
      try {
        handle = pipes_->create_instance();
      } catch (const std::exception& e) {
        SPDLOG_ERROR("control: cannot create a pipe instance on {}: {}", endpoint(), e.what());
        return;  // tried again at the next wake-up
      }
      listen_on(handle);
    }
  }

  void start_connect(Instance& i) {
    i.connect_op.ov = OVERLAPPED{};
    if (ConnectNamedPipe(i.handle, &i.connect_op.ov)) {  // completed: its packet still comes
      ++i.pending;
      return;
    }
    switch (const DWORD error = GetLastError()) {
      case ERROR_IO_PENDING: ++i.pending; return;
      case ERROR_PIPE_CONNECTED: became_client(i); return;  // no packet for this one
      // A client came, wrote and went before we got here: what it wrote is still there
      // to be read (a program's last flow releases), then the end of the pipe.
      case ERROR_NO_DATA: became_client(i); return;
      default:
        SPDLOG_ERROR("control: cannot accept on {}: {}", endpoint(), platform::win32_error_text(error));
        --listening_;
        i.finished = true;
        release_if_idle(i);
    }
  }

  void became_client(Instance& i) {
    --listening_;
    replenish_listening();
    i.connected = true;
    identify_process(i.handle, i.caller);
    events_->connected(i.id);
    if (i.reading && !i.closing && !i.finished) start_read(i);
  }

  void start_read(Instance& i) {
    i.read_op.ov = OVERLAPPED{};
    if (ReadFile(i.handle, i.buffer, kReadChunk, nullptr, &i.read_op.ov) || GetLastError() == ERROR_IO_PENDING) {
      ++i.pending;
      i.read_active = true;
      return;
    }
    finish(i);  // broken pipe: the client left
  }

  void start_write(Instance& i) {
    i.write_op.ov = OVERLAPPED{};
    const DWORD chunk = static_cast<DWORD>(std::min<std::size_t>(i.out.size() - i.sent, 1 << 20));
    if (WriteFile(i.handle, i.out.data() + i.sent, chunk, nullptr, &i.write_op.ov) || GetLastError() == ERROR_IO_PENDING) {
      ++i.pending;
      i.write_active = true;
      return;
    }
    write_failed(i);
  }

  void complete(Op& op, DWORD bytes) {
    Instance& i = *op.instance;
    --i.pending;
    DWORD transferred = 0;
    const bool ok = GetOverlappedResult(i.handle, &op.ov, &transferred, FALSE) != FALSE;
    if (op.kind == OpKind::read) i.read_active = false;
    if (op.kind == OpKind::write) i.write_active = false;
    if (i.finished) {
      release_if_idle(i);
      return;
    }
    switch (op.kind) {
      case OpKind::connect:
        if (ok || GetLastError() == ERROR_NO_DATA) became_client(i);
        else {
          --listening_;
          i.finished = true;
          release_if_idle(i);
        }
        return;
      case OpKind::read:
        if (!ok || bytes == 0) {
          if (!ok) finish(i);
          else if (i.reading) start_read(i);
          return;
        }
        if (!i.identified) {
          // The token exists now that the client has written.
          identify_account(i.handle, i.caller);
          i.identified = true;
          events_->identified(i.id, i.caller);
        }
        events_->received(i.id, std::string_view(i.buffer, bytes));
        if (!i.finished && i.reading && !i.closing && !i.read_active) start_read(i);
        return;
      case OpKind::write:
        if (!ok) {
          write_failed(i);
          return;
        }
        i.sent += bytes;
        if (i.sent < i.out.size()) {
          start_write(i);
          return;
        }
        i.out.clear();
        i.out.shrink_to_fit();
        i.sent = 0;
        if (i.closing) finish(i);
        else drained_.push_back(i.id);
        return;
    }
  }

  void write_failed(Instance& i) {
    if (i.closing) {
      finish(i);
      return;
    }
    i.write_dead = true;
    i.out.clear();
    i.sent = 0;
    drained_.push_back(i.id);
  }

  // Closed for the owner now; the handle goes once the kernel gave back every buffer.
  // No DisconnectNamedPipe: it would discard what the client has not read yet (such
  // as a refusal); closing the handle lets the client drain it, then see the end.
  void finish(Instance& i) {
    if (i.finished) return;
    i.finished = true;
    if (i.connected) gone_.push_back(i.id);
    if (i.pending > 0) CancelIoEx(i.handle, nullptr);
    release_if_idle(i);
  }

  void release_if_idle(Instance& i) {
    if (i.pending == 0) instances_.erase(i.id);
  }

  void run_posted() {
    posted_.run([this] { tell_deferred(); });
  }

  void tell_deferred() {
    while (!drained_.empty() || !gone_.empty()) {
      std::vector<ClientId> drained, gone;
      drained.swap(drained_);
      gone.swap(gone_);
      for (ClientId id : drained) {
        if (find(id)) events_->drained(id);
      }
      for (ClientId id : gone) events_->disconnected(id);
    }
  }

  // Cancels everything and waits (bounded) for the kernel to give the buffers back.
  void close_all() {
    for (auto& [id, instance] : instances_) {
      instance->finished = true;
      if (instance->pending > 0) CancelIoEx(instance->handle, nullptr);
    }
    for (int round = 0; round < 50; ++round) {
      for (auto it = instances_.begin(); it != instances_.end();) {
        if (it->second->pending == 0) it = instances_.erase(it);
        else ++it;
      }
      if (instances_.empty()) break;
      OVERLAPPED_ENTRY entries[64];
      ULONG count = 0;
      if (!GetQueuedCompletionStatusEx(port_, entries, 64, &count, 100, FALSE)) continue;
      for (ULONG i = 0; i < count; ++i) {
        if (entries[i].lpCompletionKey == kIoKey && entries[i].lpOverlapped) {
          --reinterpret_cast<Op*>(entries[i].lpOverlapped)->instance->pending;
        }
      }
    }
    // Anything the kernel still holds after that is leaked rather than freed under it.
    for (auto& [id, instance] : instances_) instance.release();
    instances_.clear();
    listener_->close();
  }

  std::unique_ptr<Listener> listener_;
  PipeInstances* pipes_ = nullptr;
  HANDLE port_ = nullptr;
  HANDLE first_instance_ = nullptr;  // served from run() on, when the events are known
  bool replenishing_ = false;
  ServerEvents* events_ = nullptr;
  std::unordered_map<ClientId, std::unique_ptr<Instance>> instances_;
  std::size_t listening_ = 0;
  ClientId next_id_ = 1;
  std::vector<ClientId> drained_, gone_;
  PostedTasks posted_{[this] { PostQueuedCompletionStatus(port_, 0, kWakeKey, nullptr); }};
};

}  // namespace

std::unique_ptr<EventServer> make_event_server(std::unique_ptr<Listener> listener) {
  return std::make_unique<IocpEventServer>(std::move(listener));
}

}  // namespace sluice::transport
