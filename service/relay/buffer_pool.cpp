#include "service/relay/buffer_pool.h"

namespace sluice::relay {

Buffer& Buffer::operator=(Buffer&& other) noexcept {
  if (this != &other) {
    release();
    pool_ = std::exchange(other.pool_, nullptr);
    data_ = std::exchange(other.data_, nullptr);
  }
  return *this;
}

std::size_t Buffer::size() const { return pool_ ? pool_->buffer_bytes() : 0; }

void Buffer::release() {
  if (data_) pool_->give_back(data_);
  pool_ = nullptr;
  data_ = nullptr;
}

BufferPool::BufferPool(std::size_t buffer_bytes, std::size_t keep_idle) : buffer_bytes_(buffer_bytes), keep_idle_(keep_idle) {
  // Room for every idle buffer up front: give_back() runs in destructors and must not
  // allocate.
  idle_.reserve(keep_idle);
}

BufferPool::~BufferPool() {
  for (char* data : idle_) delete[] data;
}

Buffer BufferPool::take() {
  {
    std::lock_guard lock(mutex_);
    ++in_use_;
    if (!idle_.empty()) {
      char* data = idle_.back();
      idle_.pop_back();
      return Buffer(this, data);
    }
  }
  // Allocated outside the lock: other threads keep reusing idle buffers meanwhile.
  try {
    return Buffer(this, new char[buffer_bytes_]);
  } catch (...) {
    std::lock_guard lock(mutex_);
    --in_use_;
    throw;
  }
}

void BufferPool::give_back(char* data) {
  {
    std::lock_guard lock(mutex_);
    --in_use_;
    if (idle_.size() < keep_idle_) {
      idle_.push_back(data);
      return;
    }
  }
  delete[] data;
}

std::size_t BufferPool::in_use() const {
  std::lock_guard lock(mutex_);
  return in_use_;
}

std::size_t BufferPool::idle() const {
  std::lock_guard lock(mutex_);
  return idle_.size();
}

}  // namespace sluice::relay
