// Named-pipe transport (Windows). The pipe carries a DACL of its own: SYSTEM,
// Administrators and the account running sluiced may do anything; other
// authenticated users may connect, read and write (queries and flow registration),
// but not create instances of the pipe. What each caller may *do* is decided per
// method by the dispatcher from Caller.administrator, which comes from the client's
// token (impersonation), never from anything the client sends.
//
// All I/O is overlapped so that every wait can also watch a "shutdown"/"close"
// event and a deadline; a cancelled operation is always waited for, because the
// kernel owns the buffer and the OVERLAPPED until it reports completion.

#include <windows.h>
#include <sddl.h>

#include <algorithm>
#include <atomic>
#include <cwctype>
#include <mutex>
#include <utility>

#include "common/platform/platform.h"
#include "common/platform/win_strings.h"
#include "control/transport/transport.h"
#include "control/transport/win_pipe_instances.h"
#include "control/transport/win_pipe_server.h"

namespace sluice::transport {
namespace {

using Clock = std::chrono::steady_clock;
using platform::narrow;
using platform::widen;
using platform::win32_error_text;

constexpr std::wstring_view kPipePrefix = L"\\\\.\\pipe\\";
constexpr DWORD kPipeBufferBytes = 64 * 1024;
// CreateNamedPipeW: "The entire pipe name string can be up to 256 characters long."
constexpr std::size_t kMaxPipeName = 256;

// Owns one kernel handle. Pipe handles report failure as INVALID_HANDLE_VALUE,
// events as nullptr; both are normalised to nullptr here.
class UniqueHandle {
 public:
  UniqueHandle() = default;
  explicit UniqueHandle(HANDLE h) : h_(h == INVALID_HANDLE_VALUE ? nullptr : h) {}
  UniqueHandle(UniqueHandle&& other) noexcept : h_(std::exchange(other.h_, nullptr)) {}
  UniqueHandle& operator=(UniqueHandle&& other) noexcept {
    if (this != &other) reset(std::exchange(other.h_, nullptr));
    return *this;
  }
  UniqueHandle(const UniqueHandle&) = delete;
  UniqueHandle& operator=(const UniqueHandle&) = delete;
  ~UniqueHandle() { reset(); }

  HANDLE get() const { return h_; }
  explicit operator bool() const { return h_ != nullptr; }
  HANDLE release() { return std::exchange(h_, nullptr); }
  void reset(HANDLE h = nullptr) {
    if (h_) CloseHandle(h_);
    h_ = h == INVALID_HANDLE_VALUE ? nullptr : h;
  }

 private:
  HANDLE h_ = nullptr;
};

ErrorKind kind_of(DWORD error) {
  switch (error) {
    case ERROR_FILE_NOT_FOUND:
    case ERROR_PATH_NOT_FOUND: return ErrorKind::not_running;
    case ERROR_ACCESS_DENIED: return ErrorKind::access_denied;
    case ERROR_BROKEN_PIPE:
    case ERROR_NO_DATA:
    case ERROR_PIPE_NOT_CONNECTED: return ErrorKind::closed;
    case ERROR_SEM_TIMEOUT: return ErrorKind::timed_out;
    case ERROR_INVALID_NAME:
    case ERROR_BAD_PATHNAME: return ErrorKind::invalid;
    default: return ErrorKind::other;
  }
}

[[noreturn]] void throw_win32(DWORD error, const std::string& what) {
  throw TransportError(kind_of(error), what + ": " + win32_error_text(error));
}

UniqueHandle make_event(const std::string& what) {
  // Manual-reset: overlapped I/O resets it when an operation starts and sets it on
  // completion; the shutdown/close events stay set once set.
  UniqueHandle event(CreateEventW(nullptr, TRUE, FALSE, nullptr));
  if (!event) throw_win32(GetLastError(), what + ": cannot create an event");
  return event;
}

bool is_set(HANDLE event) { return WaitForSingleObject(event, 0) == WAIT_OBJECT_0; }

// Deadline arithmetic in the DWORD milliseconds the wait functions take. Timeouts
// are clamped so that "forever"-sized durations neither overflow nor mean INFINITE.
class Deadline {
 public:
  explicit Deadline(std::chrono::milliseconds timeout)
      : at_(Clock::now() + std::clamp(timeout, std::chrono::milliseconds(0), std::chrono::milliseconds(kMaxWait))) {}

  DWORD remaining_ms() const {
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(at_ - Clock::now()).count();
    return left <= 0 ? 0 : static_cast<DWORD>(std::min<long long>(left, kMaxWait));
  }

 private:
  static constexpr long long kMaxWait = 0x7FFFFFFF;  // well below INFINITE (0xFFFFFFFF)
  Clock::time_point at_;
};

// Validates "\\.\pipe\NAME" (the prefix case-insensitively, as Windows does).
std::wstring pipe_name(const std::string& endpoint) {
  std::wstring name = widen(endpoint);
  bool prefixed = name.size() >= kPipePrefix.size() &&
                  std::equal(kPipePrefix.begin(), kPipePrefix.end(), name.begin(),
                             [](wchar_t a, wchar_t b) { return std::towlower(a) == std::towlower(b); });
  if (!prefixed || name.size() == kPipePrefix.size()) {
    throw TransportError(ErrorKind::invalid,
                         "'" + endpoint + "' is not a local pipe name (expected \\\\.\\pipe\\NAME)");
  }
  if (name.size() > kMaxPipeName) {
    throw TransportError(ErrorKind::invalid, "pipe name is too long (" + std::to_string(name.size()) +
                                                 " characters, the limit is " + std::to_string(kMaxPipeName) +
                                                 "): " + endpoint);
  }
  return name;
}

// How an overlapped operation ended.
struct IoOutcome {
  DWORD error = ERROR_SUCCESS;  // of the operation itself (ERROR_OPERATION_ABORTED when we cancelled it)
  DWORD bytes = 0;
  bool timed_out = false;
  bool shut_down = false;
};

// Finishes an overlapped ReadFile/WriteFile that returned `started`, waiting for the
// I/O, the shutdown event or the deadline, whichever comes first. On timeout or
// shutdown the operation is cancelled and its cancellation awaited, so the caller's
// buffer and OVERLAPPED are free again when this returns.
IoOutcome finish_io(HANDLE handle, OVERLAPPED& ov, BOOL started, HANDLE shutdown_event, const Deadline& deadline) {
  IoOutcome outcome;
  if (!started) {
    const DWORD error = GetLastError();
    if (error != ERROR_IO_PENDING) {
      outcome.error = error;
      return outcome;
    }
    HANDLE waits[2] = {ov.hEvent, shutdown_event};
    const DWORD woken = WaitForMultipleObjects(2, waits, FALSE, deadline.remaining_ms());
    if (woken != WAIT_OBJECT_0) {
      outcome.timed_out = woken == WAIT_TIMEOUT;
      outcome.shut_down = woken == WAIT_OBJECT_0 + 1;
      CancelIoEx(handle, &ov);  // may fail with ERROR_NOT_FOUND if it just completed: fine
    }
  }
  if (GetOverlappedResult(handle, &ov, &outcome.bytes, TRUE)) {
    outcome.error = ERROR_SUCCESS;
  } else {
    outcome.error = GetLastError();
  }
  return outcome;
}

bool is_end_of_stream(DWORD error) {
  return error == ERROR_BROKEN_PIPE || error == ERROR_PIPE_NOT_CONNECTED || error == ERROR_NO_DATA;
}

// --- peer identity ------------------------------------------------------------

std::string account_of(PSID sid) {
  wchar_t name[256];
  wchar_t domain[256];
  DWORD name_len = 256;
  DWORD domain_len = 256;
  SID_NAME_USE use;
  if (LookupAccountSidW(nullptr, sid, name, &name_len, domain, &domain_len, &use)) {
    std::wstring account = domain_len ? std::wstring(domain, domain_len) + L"\\" : std::wstring();
    return narrow(account + std::wstring(name, name_len));
  }
  // An account the machine cannot name (deleted, or a domain it cannot reach): the
  // SID itself still identifies it in logs.
  wchar_t* text = nullptr;
  std::string result;
  if (ConvertSidToStringSidW(sid, &text)) {
    result = narrow(text);
    LocalFree(text);
  }
  return result;
}

// Account and administrator status from the pipe client's token. The token is taken
// by impersonating the client (at the identification level the client allows), and
// the thread reverts at once: everything else is done under our own identity.
}  // namespace

void identify_account(HANDLE pipe, protocol::Caller& caller) {
  if (!ImpersonateNamedPipeClient(pipe)) return;  // e.g. nothing read yet: not an administrator
  HANDLE raw_token = nullptr;
  const BOOL opened = OpenThreadToken(GetCurrentThread(), TOKEN_QUERY, TRUE, &raw_token);
  RevertToSelf();
  if (!opened) return;
  UniqueHandle token(raw_token);

  SID_IDENTIFIER_AUTHORITY nt_authority = SECURITY_NT_AUTHORITY;
  PSID admins = nullptr;
  if (AllocateAndInitializeSid(&nt_authority, 2, SECURITY_BUILTIN_DOMAIN_RID, DOMAIN_ALIAS_RID_ADMINS, 0, 0, 0, 0,
                               0, 0, &admins)) {
    // Counts only an enabled membership: a UAC-filtered (non-elevated) token holds
    // Administrators as deny-only and is not an administrator here.
    BOOL member = FALSE;
    caller.administrator = CheckTokenMembership(token.get(), admins, &member) && member;
    FreeSid(admins);
  }

  DWORD size = 0;
  GetTokenInformation(token.get(), TokenUser, nullptr, 0, &size);
  if (size == 0) return;
  std::string buffer(size, '\0');
  if (GetTokenInformation(token.get(), TokenUser, buffer.data(), size, &size)) {
    caller.account = account_of(reinterpret_cast<TOKEN_USER*>(buffer.data())->User.Sid);
  }
}

void identify_process(HANDLE pipe, protocol::Caller& caller) {
  ULONG pid = 0;
  if (GetNamedPipeClientProcessId(pipe, &pid)) {
    caller.pid = pid;
    // Held as long as the connection: an open handle keeps the pid from being
    // given to another process, so what is read under this pid later is the
    // client's own (platform::same_process).
    caller.process_handle = platform::open_process_handle(pid);
    caller.process_start = platform::process_start_time(pid);
    caller.executable = platform::process_executable(pid);
  }
}

namespace {

protocol::Caller identify(HANDLE pipe) {
  protocol::Caller caller;  // uid stays -1: Windows has none
  identify_process(pipe, caller);
  identify_account(pipe, caller);
  return caller;
}

// --- connection -----------------------------------------------------------------

class PipeConnection final : public Connection {
 public:
  PipeConnection(UniqueHandle pipe, bool server, std::string endpoint)
      : pipe_(std::move(pipe)),
        server_(server),
        endpoint_(std::move(endpoint)),
        read_event_(make_event(endpoint_)),
        write_event_(make_event(endpoint_)),
        shutdown_event_(make_event(endpoint_)) {}

  // No DisconnectNamedPipe and no FlushFileBuffers: an instance is never reused (the
  // listener makes a new one per client), FlushFileBuffers would block on a client
  // that does not read, and DisconnectNamedPipe would discard what the client has not
  // read yet (such as the "too many clients" answer). Closing the last server handle
  // lets the client drain its data and then see ERROR_BROKEN_PIPE.
  // No I/O is outstanding here: read_some/write_all always wait for their operation.
  ~PipeConnection() override { platform::close_process_handle(peer_.process_handle); }

  std::size_t read_some(char* data, std::size_t size, std::chrono::milliseconds timeout) override {
    const Deadline deadline(timeout);
    if (is_set(shutdown_event_.get())) throw TransportError(ErrorKind::closed, "connection shut down");
    if (size == 0) return 0;
    OVERLAPPED ov{};
    ov.hEvent = read_event_.get();
    const DWORD wanted = static_cast<DWORD>(std::min<std::size_t>(size, MAXDWORD));
    const BOOL started = ReadFile(pipe_.get(), data, wanted, nullptr, &ov);
    const IoOutcome io = finish_io(pipe_.get(), ov, started, shutdown_event_.get(), deadline);
    if (io.shut_down) throw TransportError(ErrorKind::closed, "connection shut down");
    if (io.error == ERROR_SUCCESS) {
      // A read that completed just as the timeout fired still returns its data.
      if (io.bytes == 0 && is_set(shutdown_event_.get())) throw TransportError(ErrorKind::closed, "connection shut down");
      return io.bytes;
    }
    if (io.timed_out) throw TransportError(ErrorKind::timed_out, "no data from " + endpoint_ + " within the timeout");
    if (is_end_of_stream(io.error)) return 0;
    throw_win32(io.error, "cannot read from " + endpoint_);
  }

  void write_all(std::string_view data, std::chrono::milliseconds timeout) override {
    const Deadline deadline(timeout);
    while (!data.empty()) {
      if (is_set(shutdown_event_.get())) throw TransportError(ErrorKind::closed, "connection shut down");
      OVERLAPPED ov{};
      ov.hEvent = write_event_.get();
      const DWORD chunk = static_cast<DWORD>(std::min<std::size_t>(data.size(), MAXDWORD));
      const BOOL started = WriteFile(pipe_.get(), data.data(), chunk, nullptr, &ov);
      const IoOutcome io = finish_io(pipe_.get(), ov, started, shutdown_event_.get(), deadline);
      if (io.shut_down) throw TransportError(ErrorKind::closed, "connection shut down");
      if (io.error == ERROR_SUCCESS) {
        data.remove_prefix(io.bytes);
        continue;
      }
      if (io.timed_out) throw TransportError(ErrorKind::timed_out, "the peer on " + endpoint_ + " is not reading");
      if (is_end_of_stream(io.error)) {
        throw TransportError(ErrorKind::closed, "the peer on " + endpoint_ + " closed the connection");
      }
      throw_win32(io.error, "cannot write to " + endpoint_);
    }
  }

  // Computed on first use, not at accept(): on Windows, ImpersonateNamedPipeClient
  // only works once the client has written to the pipe, and callers ask for the
  // peer after reading a request.
  // On the client side, the serving process's pid alone: the LSP tells a restarted
  // service by it (provider/core/service_client.h).
  const protocol::Caller& peer() const override {
    std::call_once(identified_, [this] {
      ULONG pid = 0;
      if (server_) {
        peer_ = identify(pipe_.get());
      } else if (GetNamedPipeServerProcessId(pipe_.get(), &pid)) {
        peer_.pid = pid;
      }
    });
    return peer_;
  }

  void shutdown() override { SetEvent(shutdown_event_.get()); }

 private:
  UniqueHandle pipe_;
  bool server_;
  std::string endpoint_;
  UniqueHandle read_event_;   // separate events: a read and a write may be in flight at once
  UniqueHandle write_event_;
  UniqueHandle shutdown_event_;
  mutable std::once_flag identified_;
  mutable protocol::Caller peer_;
};

// --- listener -------------------------------------------------------------------

// The current process's user as an SDDL SID string ("S-1-5-..."), or "" if unknown.
std::wstring current_user_sid() {
  HANDLE raw = nullptr;
  if (!OpenProcessToken(GetCurrentProcess(), TOKEN_QUERY, &raw)) return {};
  UniqueHandle token(raw);
  DWORD size = 0;
  GetTokenInformation(token.get(), TokenUser, nullptr, 0, &size);
  if (size == 0) return {};
  std::string buffer(size, '\0');
  if (!GetTokenInformation(token.get(), TokenUser, buffer.data(), size, &size)) return {};
  wchar_t* text = nullptr;
  if (!ConvertSidToStringSidW(reinterpret_cast<TOKEN_USER*>(buffer.data())->User.Sid, &text)) return {};
  std::wstring sid(text);
  LocalFree(text);
  return sid;
}

// The pipe's DACL (protected: nothing inherited).
//  - SYSTEM and Administrators: full control.
//  - The account running sluiced: full control too. Creating the second and later
//    instances needs FILE_CREATE_PIPE_INSTANCE on the pipe's own DACL, so without
//    this a sluiced run by a non-administrator in a console could accept only once.
//  - Authenticated users: FILE_GENERIC_READ | FILE_WRITE_DATA | FILE_WRITE_ATTRIBUTES
//    (0x12018b). Deliberately not FILE_GENERIC_WRITE ("GW"): that includes
//    FILE_APPEND_DATA, which for a pipe is FILE_CREATE_PIPE_INSTANCE and would let any
//    user add a server instance of \\.\pipe\sluice and receive other users' (and
//    administrators') connections. Clients ask for no more than this (connect()).
std::wstring pipe_sddl() {
  std::wstring sddl = L"D:P(A;;GA;;;SY)(A;;GA;;;BA)(A;;0x12018b;;;AU)";
  if (std::wstring me = current_user_sid(); !me.empty()) sddl += L"(A;;GA;;;" + me + L")";
  return sddl;
}

class PipeListener final : public Listener, public PipeInstances {
 public:
  explicit PipeListener(std::string endpoint)
      : endpoint_(std::move(endpoint)),
        name_(pipe_name(endpoint_)),
        connect_event_(make_event(endpoint_)),
        close_event_(make_event(endpoint_)) {
    const std::wstring sddl = pipe_sddl();
    if (!ConvertStringSecurityDescriptorToSecurityDescriptorW(sddl.c_str(), SDDL_REVISION_1, &descriptor_, nullptr)) {
      throw_win32(GetLastError(), "cannot build the security descriptor for " + endpoint_);
    }
    refuse_if_served();
    pending_ = create_instance(/*first=*/true);
  }

  ~PipeListener() override {
    close();
    pending_.reset();  // accept() has returned (its caller joins it before destroying us)
    if (descriptor_) LocalFree(descriptor_);
  }

  std::unique_ptr<Connection> accept() override {
    for (;;) {
      if (is_set(close_event_.get())) return nullptr;
      if (!pending_) {
        // The previous attempt to create an instance failed; retry, but not in a tight
        // loop, as the caller logs and calls again.
        if (WaitForSingleObject(close_event_.get(), 100) == WAIT_OBJECT_0) return nullptr;
        pending_ = create_instance(/*first=*/false);
      }

      OVERLAPPED ov{};
      ov.hEvent = connect_event_.get();
      bool connected = ConnectNamedPipe(pending_.get(), &ov) != FALSE;
      if (!connected) {
        const DWORD error = GetLastError();
        if (error == ERROR_PIPE_CONNECTED) {
          connected = true;  // the client came between CreateNamedPipeW and ConnectNamedPipe
        } else if (error == ERROR_IO_PENDING) {
          HANDLE waits[2] = {ov.hEvent, close_event_.get()};
          const DWORD woken = WaitForMultipleObjects(2, waits, FALSE, INFINITE);
          if (woken != WAIT_OBJECT_0) CancelIoEx(pending_.get(), &ov);
          DWORD ignored = 0;
          connected = GetOverlappedResult(pending_.get(), &ov, &ignored, TRUE) != FALSE;
          if (woken == WAIT_OBJECT_0 + 1) {
            pending_.reset();  // also undoes a connection that raced with the close
            return nullptr;
          }
          if (!connected) {
            const DWORD failure = woken == WAIT_FAILED ? ERROR_INVALID_HANDLE : GetLastError();
            if ((failure == ERROR_NO_DATA || failure == ERROR_BROKEN_PIPE) && recycle_pending()) continue;
            pending_.reset();
            throw_win32(failure, "cannot accept a client on " + endpoint_);
          }
        } else if (error == ERROR_NO_DATA) {
          // A client connected and closed already (such as another server's in-use
          // probe): nothing to serve.
          if (recycle_pending()) continue;
          pending_.reset();
          throw_win32(error, "cannot accept a client on " + endpoint_);
        } else {
          pending_.reset();
          throw_win32(error, "cannot accept a client on " + endpoint_);
        }
      }

      auto connection = std::make_unique<PipeConnection>(std::move(pending_), /*server=*/true, endpoint_);
      // The next instance is created at once, so clients arriving while this one is
      // served find a listening instance (ERROR_PIPE_BUSY makes them wait, not fail).
      try {
        pending_ = create_instance(/*first=*/false);
      } catch (const TransportError&) {
        // Retried by the next accept(); this client is served regardless.
      }
      return connection;
    }
  }

  void close() override { SetEvent(close_event_.get()); }

  const std::string& endpoint() const override { return endpoint_; }

  HANDLE take_first_instance() override { return pending_.release(); }
  HANDLE create_instance() override { return create_instance(/*first=*/false).release(); }

 private:
  // Named pipes vanish with their last handle, so there is never a stale endpoint
  // to reclaim; a pipe that exists is served by a live process. Wine 8 does not
  // enforce FILE_FLAG_FIRST_PIPE_INSTANCE (a second server simply adds instances),
  // so ask first: anything but "not found" means another server owns the name.
  // (The probe connection is harmless: that server sees a client that leaves.)
  void refuse_if_served() {
    UniqueHandle probe(CreateFileW(name_.c_str(), GENERIC_READ, 0, nullptr, OPEN_EXISTING,
                                   SECURITY_SQOS_PRESENT | SECURITY_IDENTIFICATION, nullptr));
    const DWORD error = probe ? ERROR_SUCCESS : GetLastError();
    if (error == ERROR_FILE_NOT_FOUND) return;
    if (error == ERROR_SUCCESS || error == ERROR_PIPE_BUSY || error == ERROR_ACCESS_DENIED) {
      // Not necessarily a sluiced: any process may have taken the name first. Its
      // pid lets an administrator find it.
      ULONG pid = 0;
      const std::string who = probe && GetNamedPipeServerProcessId(probe.get(), &pid)
                                  ? "another process (pid " + std::to_string(pid) + ")"
                                  : std::string("another sluiced or another process");
      throw TransportError(ErrorKind::in_use, who + " is already listening on " + endpoint_);
    }
    throw_win32(error, "cannot check whether " + endpoint_ + " is in use");
  }

  // Readies the pending instance for the next client after one came and went before
  // it was served. The instance is reused rather than replaced: if it were closed
  // while it is the only one, the pipe name would vanish for a moment and clients
  // would be told that sluiced is not running.
  bool recycle_pending() { return DisconnectNamedPipe(pending_.get()) != FALSE; }

  UniqueHandle create_instance(bool first) {
    SECURITY_ATTRIBUTES sa{sizeof sa, descriptor_, FALSE};
    const DWORD open_mode = PIPE_ACCESS_DUPLEX | FILE_FLAG_OVERLAPPED | (first ? FILE_FLAG_FIRST_PIPE_INSTANCE : 0);
    UniqueHandle pipe(CreateNamedPipeW(name_.c_str(), open_mode,
                                       PIPE_TYPE_BYTE | PIPE_READMODE_BYTE | PIPE_WAIT | PIPE_REJECT_REMOTE_CLIENTS,
                                       PIPE_UNLIMITED_INSTANCES, kPipeBufferBytes, kPipeBufferBytes, 0, &sa));
    if (pipe) return pipe;
    const DWORD error = GetLastError();
    // FILE_FLAG_FIRST_PIPE_INSTANCE makes a server that lost the race with another
    // one fail with ERROR_ACCESS_DENIED; ERROR_PIPE_BUSY means the other server's
    // instance limit is reached. Either way the name is someone else's.
    if (first && (error == ERROR_ACCESS_DENIED || error == ERROR_PIPE_BUSY)) {
      throw TransportError(ErrorKind::in_use, "another sluiced is already listening on " + endpoint_);
    }
    throw_win32(error, "cannot create the pipe " + endpoint_);
  }

  std::string endpoint_;
  std::wstring name_;
  PSECURITY_DESCRIPTOR descriptor_ = nullptr;
  UniqueHandle connect_event_;
  UniqueHandle close_event_;
  UniqueHandle pending_;  // the instance waiting for the next client (accept thread only)
};

}  // namespace

std::unique_ptr<Listener> listen(const std::string& endpoint) { return std::make_unique<PipeListener>(endpoint); }

std::unique_ptr<Connection> connect(const std::string& endpoint, std::chrono::milliseconds timeout) {
  const std::wstring name = pipe_name(endpoint);
  const Deadline deadline(timeout);
  for (;;) {
    // FILE_WRITE_DATA, not GENERIC_WRITE: GENERIC_WRITE includes FILE_APPEND_DATA
    // (= FILE_CREATE_PIPE_INSTANCE) and FILE_WRITE_EA, which the pipe's DACL grants
    // only to administrators (see pipe_sddl), so ordinary users could not connect.
    // SECURITY_IDENTIFICATION: the server may learn who we are (for authorization)
    // but cannot act as us, should a rogue process ever own the pipe name.
    UniqueHandle pipe(CreateFileW(name.c_str(), GENERIC_READ | FILE_WRITE_DATA, 0, nullptr, OPEN_EXISTING,
                                  FILE_FLAG_OVERLAPPED | SECURITY_SQOS_PRESENT | SECURITY_IDENTIFICATION, nullptr));
    if (pipe) {
      // Before a byte is written: a squatter must not even see the request.
      require_trusted_server(pipe.get(), endpoint, same_pipe_name(endpoint, platform::default_control_endpoint()));
      return std::make_unique<PipeConnection>(std::move(pipe), /*server=*/false, endpoint);
    }
    const DWORD error = GetLastError();
    switch (error) {
      case ERROR_PIPE_BUSY: {
        // Every instance is taken: wait for the server to offer the next one.
        const DWORD left = deadline.remaining_ms();
        if (left == 0) throw TransportError(ErrorKind::timed_out, "the service at " + endpoint + " is not accepting");
        // WaitNamedPipeW fails on timeout, or when the pipe vanished; CreateFileW
        // above then tells which.
        WaitNamedPipeW(name.c_str(), left);
        continue;
      }
      case ERROR_FILE_NOT_FOUND:
        throw TransportError(ErrorKind::not_running, "no such pipe");
      case ERROR_ACCESS_DENIED:
        throw TransportError(ErrorKind::access_denied, "access to " + endpoint + " denied: " + win32_error_text(error));
      default: throw_win32(error, "cannot connect to " + endpoint);
    }
  }
}

}  // namespace sluice::transport
