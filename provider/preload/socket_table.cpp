#include "provider/preload/socket_table.h"

#include <algorithm>
#include <utility>

namespace sluice::preload {

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
