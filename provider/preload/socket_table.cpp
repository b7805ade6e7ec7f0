#include "provider/preload/socket_table.h"

#include <algorithm>
#include <utility>

namespace sluice::preload {

namespace {

std::atomic<SocketState::ReleaseFlow> release_flow{nullptr};

}  // namespace

void SocketState::set_release(ReleaseFlow release) { release_flow.store(release); }

SocketState::~SocketState() {
  auto release = release_flow.load();
  if (release == nullptr) return;
  for (const Route& route : routes_) {
    if (route.kind == RouteKind::relay && route.flow_id != 0) release(route.flow_id);
  }
}

std::optional<Route> SocketState::find(const NetAddress& destination) const {
  std::lock_guard lock(mutex_);
  for (const Route& route : routes_) {
    if (route.destination == destination) return route;
  }
  return std::nullopt;
}

Route SocketState::remember(const Route& route) {
  std::lock_guard lock(mutex_);
  for (Route& existing : routes_) {
    if (existing.destination != route.destination) continue;
    // A lasting verdict is kept; a fail-mode stand-in is replaced by whatever is newer.
    if (!existing.retry_after) return existing;
    if (existing.kind == RouteKind::relay) relay_routes_.fetch_sub(1);
    existing = route;
    if (route.kind == RouteKind::relay) relay_routes_.fetch_add(1);
    return existing;
  }
  if (routes_.size() >= kMaxRoutes) {
    auto oldest = std::find_if(routes_.begin(), routes_.end(), [](const Route& r) { return r.kind != RouteKind::relay; });
    if (oldest != routes_.end()) routes_.erase(oldest);
  }
  routes_.push_back(route);
  if (route.kind == RouteKind::relay) relay_routes_.fetch_add(1);
  return route;
}

void SocketState::set_original_peer(std::optional<NetAddress> peer) {
  std::lock_guard lock(mutex_);
  original_peer_ = peer;
}

std::optional<NetAddress> SocketState::original_peer() const {
  std::lock_guard lock(mutex_);
  return original_peer_;
}

std::optional<NetAddress> SocketState::destination_for_relay(const NetAddress& source) const {
  std::lock_guard lock(mutex_);
  for (const Route& route : routes_) {
    if (route.kind == RouteKind::relay && route.relay == source) return route.destination;
  }
  return std::nullopt;
}

std::vector<Route> SocketState::routes() const {
  std::lock_guard lock(mutex_);
  return routes_;
}

SocketTable::SocketTable() = default;

SocketTable::~SocketTable() {
  // The table lives as long as the process; at exit the states are simply dropped
  // (their flows end with the process's connection to the service).
  for (auto& chunk : chunks_) delete chunk.load();
}

std::shared_ptr<SocketState>* SocketTable::slot(int fd, bool create) {
  if (fd < 0 || fd >= kMaxDescriptors) return nullptr;
  auto& entry = chunks_[static_cast<std::size_t>(fd >> kChunkBits)];
  Chunk* chunk = entry.load(std::memory_order_acquire);
  if (chunk == nullptr) {
    if (!create) return nullptr;
    auto* fresh = new Chunk();
    if (entry.compare_exchange_strong(chunk, fresh, std::memory_order_acq_rel)) {
      chunk = fresh;
    } else {
      delete fresh;  // another thread installed one; `chunk` now holds it
    }
  }
  return &chunk->slots[fd & (kChunkSize - 1)];
}

std::shared_ptr<SocketState> SocketTable::get(int fd) const {
  auto* s = const_cast<SocketTable*>(this)->slot(fd, false);
  if (s == nullptr) return nullptr;
  std::lock_guard lock(stripe(fd));
  return *s;
}

void SocketTable::set(int fd, std::shared_ptr<SocketState> state) {
  auto* s = slot(fd, true);
  if (s == nullptr) return;
  std::shared_ptr<SocketState> previous;
  {
    std::lock_guard lock(stripe(fd));
    previous = std::exchange(*s, std::move(state));
  }
}

std::shared_ptr<SocketState> SocketTable::take(int fd) {
  auto* s = slot(fd, false);
  if (s == nullptr) return nullptr;
  std::lock_guard lock(stripe(fd));
  return std::exchange(*s, nullptr);
}

std::shared_ptr<SocketState> SocketTable::duplicate(int from, int to) {
  auto state = get(from);
  auto* s = slot(to, state != nullptr);
  if (s == nullptr) return nullptr;
  std::lock_guard lock(stripe(to));
  return std::exchange(*s, std::move(state));
}

void SocketTable::for_each(const std::function<void(int, const std::shared_ptr<SocketState>&)>& visit) const {
  for (int c = 0; c < kChunks; ++c) {
    if (chunks_[static_cast<std::size_t>(c)].load(std::memory_order_acquire) == nullptr) continue;
    for (int i = 0; i < kChunkSize; ++i) {
      const int fd = (c << kChunkBits) | i;
      auto state = get(fd);
      if (state && state->steered()) visit(fd, state);
    }
  }
}

void SocketTable::lock_all() {
  for (auto& s : stripes_) s.lock();
}

void SocketTable::unlock_all() {
  for (auto& s : stripes_) s.unlock();
}

}  // namespace sluice::preload
