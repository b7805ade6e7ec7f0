#include "provider/lsp/pipe_channel.h"

namespace sluice::lsp {

namespace {

std::chrono::milliseconds left(provider::ServiceChannel::Clock::time_point deadline) {
  const auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - provider::ServiceChannel::Clock::now());
  return ms.count() < 1 ? std::chrono::milliseconds(1) : ms;
}

}  // namespace

bool PipeChannel::connect(Clock::time_point deadline, bool* absent) {
  if (connection_) return true;
  try {
    connection_ = transport::connect(endpoint_, left(deadline));
    const std::int64_t pid = connection_->peer().pid;
    service_pid_ = pid > 0 ? pid : 0;
    return true;
  } catch (const transport::TransportError& e) {
    // A pipe served by someone other than the service is no service: as if none listened.
    if (absent != nullptr) {
      *absent = e.kind() == transport::ErrorKind::not_running || e.kind() == transport::ErrorKind::untrusted;
    }
  } catch (const std::exception&) {
  }
  connection_.reset();
  return false;
}

bool PipeChannel::send(const std::string& bytes, Clock::time_point deadline) {
  if (!connection_) return false;
  try {
    connection_->write_all(bytes, left(deadline));
    return true;
  } catch (const std::exception&) {
    return false;  // not running, timed out, closed: all the same to the client
  }
}

bool PipeChannel::receive(char* buffer, std::size_t size, std::size_t* received, Clock::time_point deadline) {
  if (!connection_) return false;
  try {
    *received = connection_->read_some(buffer, size, left(deadline));
    return *received > 0;  // 0: the service closed the connection (restart, idle timeout)
  } catch (const std::exception&) {
    return false;
  }
}

bool PipeChannel::hung_up() {
  if (!connection_) return true;
  try {
    // The service never speaks unasked: end of stream, or anything at all, is a
    // connection no longer in step.
    char byte = 0;
    connection_->read_some(&byte, 1, std::chrono::milliseconds(1));
    return true;
  } catch (const transport::TransportError& e) {
    return e.kind() != transport::ErrorKind::timed_out;
  } catch (const std::exception&) {
    return true;
  }
}

}  // namespace sluice::lsp
