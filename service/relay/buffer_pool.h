#pragma once

// Fixed-size buffers reused across I/O operations. A completion-port relay hands the
// kernel a buffer with every read it posts; taking it from here instead of the heap
// keeps a busy relay from allocating once per read. Platform-neutral, thread-safe.

#include <cstddef>
#include <mutex>
#include <utility>
#include <vector>

namespace sluice::relay {

class BufferPool;

// One buffer of the pool's size, owned by whoever holds it; it goes back to the pool
// when the holder lets go of it (destruction or move-assignment over it).
class Buffer {
 public:
  Buffer() = default;
  Buffer(Buffer&& other) noexcept : pool_(std::exchange(other.pool_, nullptr)), data_(std::exchange(other.data_, nullptr)) {}
  Buffer& operator=(Buffer&& other) noexcept;
  Buffer(const Buffer&) = delete;
  Buffer& operator=(const Buffer&) = delete;
  ~Buffer() { release(); }

  char* data() const { return data_; }
  std::size_t size() const;
  explicit operator bool() const { return data_ != nullptr; }
  // Returns the buffer to its pool now.
  void release();

 private:
  friend class BufferPool;
  Buffer(BufferPool* pool, char* data) : pool_(pool), data_(data) {}

  BufferPool* pool_ = nullptr;
  char* data_ = nullptr;
};

class BufferPool {
 public:
  // Buffers of `buffer_bytes` each; at most `keep_idle` returned ones are kept for
  // reuse, the rest are freed (a burst of flows does not pin memory forever).
  BufferPool(std::size_t buffer_bytes, std::size_t keep_idle);
  ~BufferPool();  // every Buffer taken must have been returned
  BufferPool(const BufferPool&) = delete;
  BufferPool& operator=(const BufferPool&) = delete;

  // A buffer from the idle ones, or a new one when none is idle.
  Buffer take();

  std::size_t buffer_bytes() const { return buffer_bytes_; }
  // How many buffers are out (taken, not yet returned), and how many wait idle.
  std::size_t in_use() const;
  std::size_t idle() const;

 private:
  friend class Buffer;
  void give_back(char* data);

  const std::size_t buffer_bytes_;
  const std::size_t keep_idle_;
  mutable std::mutex mutex_;
  std::vector<char*> idle_;
  std::size_t in_use_ = 0;
};

}  // namespace sluice::relay
