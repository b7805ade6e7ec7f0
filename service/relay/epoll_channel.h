#pragma once

// One direction of a relayed TCP connection: bytes read from one socket wait here
// until the other socket takes them. With zero_copy it is a pipe filled and drained
// with splice(2), so the payload never enters user space; otherwise a user-space
// buffer (the fallback when pipes cannot be had).

#include <cstddef>
#include <vector>

namespace sluice::relay::epoll {

struct IoResult {
  std::size_t bytes = 0;
  bool eof = false;    // the source has no more to give
  bool again = false;  // would block
  int error = 0;       // errno of a failure other than EAGAIN
};

class Channel {
 public:
  // Throws std::system_error when the pipe cannot be created.
  Channel(bool zero_copy, std::size_t capacity);
  ~Channel();
  Channel(const Channel&) = delete;
  Channel& operator=(const Channel&) = delete;

  std::size_t size() const { return size_; }
  std::size_t space() const { return capacity_ - size_; }
  bool zero_copy() const { return pipe_[0] >= 0; }

  // Moves up to `max` bytes from `from` into the channel.
  IoResult fill(int from, std::size_t max);
  // Moves what the channel holds to `to`, as much as it takes.
  IoResult drain(int to);

 private:
  int pipe_[2] = {-1, -1};
  std::vector<char> buffer_;
  std::size_t head_ = 0;  // buffer only: first unsent byte
  std::size_t size_ = 0;
  std::size_t capacity_ = 0;
};

}  // namespace sluice::relay::epoll
