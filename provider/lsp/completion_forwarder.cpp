#include "provider/lsp/completion_forwarder.h"

#include "provider/lsp/lower_provider.h"

namespace sluice::lsp {

namespace {

// What WPUCompleteOverlappedRequest's documentation asks providers to put in
// Internal while an operation runs.
constexpr ULONG_PTR kOperationInProgress = WSS_OPERATION_IN_PROGRESS;
constexpr ULONG_PTR kStopKey = ~ULONG_PTR{0};
// STATUS_PENDING, which no finished I/O leaves in an IO_STATUS_BLOCK.
constexpr ULONG_PTR kNotIssued = 0x103;

// Whether a lower call that failed at once still queues a completion packet. The
// I/O manager writes the IO_STATUS_BLOCK (the overlapped's Internal), signals and
// queues for every status but an error (NTSTATUS severity 3) returned synchronously;
// an error leaves Internal as it was.
bool lower_packet_follows(const WSAOVERLAPPED& lower) {
  const auto status = static_cast<DWORD>(lower.Internal);
  return lower.Internal != kNotIssued && (status >> 30) != 3;
}

// A completion routine's call, run by WPUQueueApc on the thread that started the
// operation; owns nothing of the operation, which may be gone by then.
struct RoutineCall {
  LPWSAOVERLAPPED_COMPLETION_ROUTINE routine;
  DWORD error, bytes, flags;
  LPWSAOVERLAPPED overlapped;
};

void CALLBACK call_routine(DWORD_PTR context) {
  std::unique_ptr<RoutineCall> call(reinterpret_cast<RoutineCall*>(context));
  call->routine(call->error, call->bytes, call->overlapped, call->flags);
}

}  // namespace

std::unique_ptr<PendingIo> make_pending_io(const std::shared_ptr<LspSocket>& socket, LPWSAOVERLAPPED overlapped,
                                           LPWSAOVERLAPPED_COMPLETION_ROUTINE routine, LPWSATHREADID thread,
                                           LPWSABUF buffers, DWORD count) {
  auto io = std::make_unique<PendingIo>();
  io->socket = socket;
  io->app_overlapped = overlapped;
  io->routine = routine;
  if (thread != nullptr) io->thread = *thread;  // the structure, not the pointer (LPWSPSENDTO, lpThreadId)
  // "The array of WSABUF structures pointed to by the lpBuffers parameter is
  // transient" (LPWSPSENDTO, Remarks): captured before the call returns.
  if (buffers != nullptr) io->buffers.assign(buffers, buffers + count);
  return io;
}

void begin_overlapped(LPWSAOVERLAPPED overlapped) {
  overlapped->Internal = kOperationInProgress;
  overlapped->InternalHigh = 0;
  overlapped->Offset = 0;
  overlapped->OffsetHigh = 0;
}

BOOL overlapped_result(LPWSAOVERLAPPED overlapped, LPDWORD bytes, BOOL wait, LPDWORD flags, LPINT error) {
  if (overlapped->Internal == kOperationInProgress) {
    if (!wait) {
      *error = WSA_IO_INCOMPLETE;
      return FALSE;
    }
    // The low bit of hEvent only tells ws2_32 not to queue to a completion port.
    const auto event = reinterpret_cast<HANDLE>(reinterpret_cast<ULONG_PTR>(overlapped->hEvent) & ~ULONG_PTR{1});
    if (event == nullptr || WaitForSingleObject(event, INFINITE) != WAIT_OBJECT_0) {
      *error = WSAEINVAL;
      return FALSE;
    }
  }
  *bytes = static_cast<DWORD>(overlapped->InternalHigh);
  *flags = overlapped->Offset;
  if (overlapped->OffsetHigh != 0) {
    *error = static_cast<int>(overlapped->OffsetHigh);
    return FALSE;
  }
  return TRUE;
}

bool CompletionForwarder::start(const WSPUPCALLTABLE& upcalls, LPWPUCOMPLETEOVERLAPPEDREQUEST complete) {
  upcalls_ = upcalls;
  complete_ = complete;
  if (port_ != nullptr) return true;
  port_ = CreateIoCompletionPort(INVALID_HANDLE_VALUE, nullptr, 0, 1);
  if (port_ == nullptr) return false;
  thread_ = CreateThread(nullptr, 0, &CompletionForwarder::thread_main, this, 0, nullptr);
  if (thread_ == nullptr) {
    CloseHandle(port_);
    port_ = nullptr;
    return false;
  }
  return true;
}

void CompletionForwarder::stop() {
  if (port_ == nullptr) return;
  PostQueuedCompletionStatus(port_, 0, kStopKey, nullptr);
  WaitForSingleObject(thread_, INFINITE);
  CloseHandle(thread_);
  CloseHandle(port_);
  thread_ = port_ = nullptr;
}

bool CompletionForwarder::adopt(SOCKET lower) {
  return port_ != nullptr && CreateIoCompletionPort(reinterpret_cast<HANDLE>(lower), port_, 0, 0) == port_;
}

DWORD WINAPI CompletionForwarder::thread_main(void* self) {
  auto& forwarder = *static_cast<CompletionForwarder*>(self);
  for (;;) {
    DWORD bytes = 0;
    ULONG_PTR key = 0;
    OVERLAPPED* overlapped = nullptr;
    const BOOL ok = GetQueuedCompletionStatus(forwarder.port_, &bytes, &key, &overlapped, INFINITE);
    if (key == kStopKey && overlapped == nullptr) return 0;
    if (overlapped == nullptr) {
      if (!ok) return 1;  // the port itself failed
      continue;
    }
    forwarder.on_completion(reinterpret_cast<PendingIo*>(overlapped));
  }
}

void CompletionForwarder::on_completion(PendingIo* io) {
  // The packet can overtake the lower call's return; that call is already done.
  while (!io->started.load()) SwitchToThread();
  if (!io->claimed.exchange(true)) {
    // The lower provider's own account of the result: its error code and flags.
    DWORD bytes = 0, flags = 0;
    int error = 0;
    const auto& calls = io->socket->provider->calls;
    if (calls.lpWSPGetOverlappedResult(io->socket->lower, &io->lower_overlapped, &bytes, FALSE, &flags, &error)) {
      error = 0;
    } else if (io->socket->closed.load()) {
      // "WSA_OPERATION_ABORTED: Overlapped operation has been canceled due to the
      // closure of the socket" (LPWSPSENDTO, Return value), whatever code the lower
      // provider uses for it (Wine's is ERROR_HANDLES_CLOSED).
      error = WSA_OPERATION_ABORTED;
    } else if (error == 0) {
      error = WSAEINVAL;
    }
    report(*io, error, bytes, flags);
  }
  release(io);
}

int CompletionForwarder::run(std::unique_ptr<PendingIo> owned, const StartLower& start, LPDWORD bytes, LPDWORD flags,
                             LPINT error) {
  if (!owned->socket->forwards_overlapped) {
    *error = WSAEOPNOTSUPP;
    return SOCKET_ERROR;
  }
  begin_overlapped(owned->app_overlapped);
  PendingIo* io = owned.release();
  // Left alone by a lower provider that fails before any I/O is issued; see below.
  io->lower_overlapped.Internal = kNotIssued;
  DWORD done = 0, done_flags = 0;
  int lower_error = 0;
  const int rc = start(*io, &done, &done_flags, &lower_error);
  if (rc != 0 && lower_error != WSA_IO_PENDING) {
    *error = lower_error;
    int ignored = 0;
    if (io->close_thread) upcalls_.lpWPUCloseThread(&io->thread, &ignored);  // no routine will be queued
    io->close_thread = false;
    if (!lower_packet_follows(io->lower_overlapped)) {
      // Nothing was started and nothing will complete: the operation is ours alone.
      delete io;
      return SOCKET_ERROR;
    }
    // A warning (WSAEMSGSIZE is STATUS_BUFFER_OVERFLOW) fails the call yet still
    // queues a packet on our port: the port's hold must outlive it. The program was
    // told of the failure here and hears nothing more (LPWSPSENDTO, Return value: "no
    // completion indication will occur"), so the packet is only drained.
    io->claimed.store(true);
    io->reported.store(true);
    io->started.store(true);
    release(io);
    return SOCKET_ERROR;
  }
  io->started.store(true);
  if (rc == 0) {
    // Done at once. The program must find the completion queued when we return,
    // whichever of us (this thread, the port's) reports it.
    if (!io->claimed.exchange(true)) {
      report(*io, 0, done, done_flags);
    } else {
      while (!io->reported.load()) SwitchToThread();
    }
    if (bytes != nullptr) *bytes = done;  // may be null for an overlapped call
    if (flags != nullptr) *flags = done_flags;
  }
  // The port's completion still comes and releases the other hold. (Lower sockets
  // are never put in FILE_SKIP_COMPLETION_PORT_ON_SUCCESS mode, so it always does.)
  release(io);
  if (rc == 0) return 0;
  *error = WSA_IO_PENDING;
  return SOCKET_ERROR;
}

void CompletionForwarder::report(PendingIo& io, int error, DWORD bytes, DWORD flags) {
  if (error == 0 && io.finish) io.finish(io, bytes);
  LPWSAOVERLAPPED overlapped = io.app_overlapped;
  overlapped->Offset = flags;
  overlapped->OffsetHigh = static_cast<DWORD>(error);
  if (io.routine != nullptr) {
    overlapped->InternalHigh = bytes;
    overlapped->Internal = static_cast<ULONG_PTR>(error);
    auto* call = new RoutineCall{io.routine, static_cast<DWORD>(error), bytes, flags, overlapped};
    int apc_error = 0;
    if (upcalls_.lpWPUQueueApc(&io.thread, call_routine, reinterpret_cast<DWORD_PTR>(call), &apc_error) != 0) {
      delete call;  // the thread is gone: there is no one left to tell
    }
    if (io.close_thread) upcalls_.lpWPUCloseThread(&io.thread, &apc_error);
  } else {
    int complete_error = 0;
    complete_(io.socket->app, overlapped, static_cast<DWORD>(error), bytes, &complete_error);
  }
  io.reported.store(true);
}

void CompletionForwarder::release(PendingIo* io) {
  if (io->holders.fetch_sub(1) == 1) delete io;
}

}  // namespace sluice::lsp
