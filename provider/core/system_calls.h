#pragma once

// The system calls the steering core makes, as a seam: each provider implements them
// at its own boundary (the C library for the preload provider, the lower provider's
// procedure table and WSAGetLastError for the LSP), and the contract test with fakes.
// The core holds no #ifdef: what differs between the platforms is here, as values.

#include "net/socket_api.h"  // generated: net/posix_socket_api.h or net/win_socket_api.h

namespace sluice::provider {

// bind and getsockname on the one socket a decision is about. Built by the provider
// for each decision (it knows the handle; the core does not).
class SocketCalls {
 public:
  virtual ~SocketCalls() = default;
  // 0 on success, as the system call.
  virtual int get_local_address(sockaddr_storage& address, int& length) = 0;
  virtual int bind(const sockaddr* address, int length) = 0;
};

// The program's error code (errno, WSAGetLastError): the provider's own work never
// changes what a program's call reports.
class ErrorCode {
 public:
  virtual ~ErrorCode() = default;
  virtual int get() const = 0;
  virtual void set(int code) = 0;
};

// Puts the program's error code back when the provider's work is done.
class PreservedError {
 public:
  explicit PreservedError(ErrorCode& code) : code_(code), saved_(code.get()) {}
  ~PreservedError() { code_.set(saved_); }
  PreservedError(const PreservedError&) = delete;
  PreservedError& operator=(const PreservedError&) = delete;

 private:
  ErrorCode& code_;
  const int saved_;
};

}  // namespace sluice::provider
