#include "service/relay/datagram_queue.h"

namespace sluice::relay {

bool UserQueuedBytes::take(std::size_t n) {
  std::size_t held = held_.load(std::memory_order_relaxed);
  do {
    if (n > limit_ || held > limit_ - n) return false;
  } while (!held_.compare_exchange_weak(held, held + n, std::memory_order_relaxed));
  return true;
}

DatagramQueue::~DatagramQueue() {
  if (user_) user_->give_back(bytes_);
}

void DatagramQueue::limit(QueueBounds bounds, std::shared_ptr<UserQueuedBytes> user) {
  bounds_ = bounds;
  user_ = std::move(user);
}

bool DatagramQueue::push_back(const char* data, std::size_t size, bool paid) {
  if (queue_.size() >= bounds_.datagrams || size > bounds_.bytes || bytes_ > bounds_.bytes - size) return false;
  if (user_ && !user_->take(size)) return false;
  bytes_ += size;
  // A copy at the datagram's own size: a long queue of small datagrams does not pin
  // a whole receive buffer each.
  queue_.push_back(Pending{std::vector<char>(data, data + size), paid});
  return true;
}

void DatagramQueue::push_front(const char* data, std::size_t size, bool paid) {
  // Counted even past the bounds, so later datagrams are refused until it leaves.
  if (user_) user_->take_anyway(size);
  bytes_ += size;
  queue_.push_front(Pending{std::vector<char>(data, data + size), paid});
}

void DatagramQueue::pop_front() {
  const std::size_t size = queue_.front().payload.size();
  queue_.pop_front();
  bytes_ -= size;
  if (user_) user_->give_back(size);
}

}  // namespace sluice::relay
