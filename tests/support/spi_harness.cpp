#include "tests/support/spi_harness.h"

#include <ws2tcpip.h>

#include <atomic>
#include <map>
#include <mutex>
#include <stdexcept>
#include <vector>

#include "provider/lsp/lsp_test_hooks.h"
#include "tests/support/winsock_base_provider.h"

namespace sluice::test {

namespace {

// Catalog entry ids as a recorded catalog might have them.
constexpr DWORD kLayeredId = 1001;
struct Chain {
  DWORD id, base_id;
  int family, type, protocol;
};
constexpr Chain kChains[] = {
    {2001, 1101, AF_INET, SOCK_STREAM, IPPROTO_TCP},
    {2002, 1102, AF_INET, SOCK_DGRAM, IPPROTO_UDP},
    {2003, 1103, AF_INET6, SOCK_STREAM, IPPROTO_TCP},
    {2004, 1104, AF_INET6, SOCK_DGRAM, IPPROTO_UDP},
};

struct HandleRecord {
  DWORD_PTR context = 0;
  HANDLE port = nullptr;
  ULONG_PTR key = 0;
};
std::mutex handles_mutex;
std::map<SOCKET, HandleRecord> handles;

WSAPROTOCOL_INFOW chain_info(const Chain& chain) {
  WSAPROTOCOL_INFOW info{};
  info.dwServiceFlags1 = XP1_IFS_HANDLES;
  info.dwCatalogEntryId = chain.id;
  info.ProtocolChain.ChainLen = 2;
  info.ProtocolChain.ChainEntries[0] = kLayeredId;
  info.ProtocolChain.ChainEntries[1] = chain.base_id;
  info.iVersion = 2;
  info.iAddressFamily = chain.family;
  info.iMaxSockAddr = chain.family == AF_INET ? sizeof(sockaddr_in) : sizeof(sockaddr_in6);
  info.iMinSockAddr = info.iMaxSockAddr;
  info.iSocketType = chain.type;
  info.iProtocol = chain.protocol;
  return info;
}

// --- the upcall table ------------------------------------------------------------

SOCKET WSPAPI create_socket_handle(DWORD, DWORD_PTR context, LPINT error) {
  // A named pipe instance: a real handle that a completion port accepts.
  static std::atomic<int> counter{0};
  const std::wstring name = L"\\\\.\\pipe\\sluice-spi-harness-" + std::to_wstring(GetCurrentProcessId()) + L"-" +
                            std::to_wstring(counter++);
  HANDLE handle = CreateNamedPipeW(name.c_str(), PIPE_ACCESS_DUPLEX | FILE_FLAG_OVERLAPPED, PIPE_TYPE_BYTE, 1, 0, 0, 0, nullptr);
  if (handle == INVALID_HANDLE_VALUE) {
    *error = WSAENOBUFS;
    return INVALID_SOCKET;
  }
  const auto s = reinterpret_cast<SOCKET>(handle);
  std::lock_guard lock(handles_mutex);
  handles[s] = HandleRecord{context};
  return s;
}

int WSPAPI close_socket_handle(SOCKET s, LPINT error) {
  std::lock_guard lock(handles_mutex);
  if (handles.erase(s) == 0) {
    *error = WSAENOTSOCK;
    return SOCKET_ERROR;
  }
  CloseHandle(reinterpret_cast<HANDLE>(s));
  return 0;
}

int WSPAPI query_socket_handle_context(SOCKET s, PDWORD_PTR context, LPINT error) {
  std::lock_guard lock(handles_mutex);
  auto it = handles.find(s);
  if (it == handles.end()) {
    *error = WSAENOTSOCK;
    return SOCKET_ERROR;
  }
  *context = it->second.context;
  return 0;
}

int WSPAPI queue_apc(LPWSATHREADID thread, LPWSAUSERAPC routine, DWORD_PTR context, LPINT error) {
  if (QueueUserAPC(reinterpret_cast<PAPCFUNC>(reinterpret_cast<void*>(routine)), thread->ThreadHandle, context) == 0) {
    *error = WSAEINVAL;
    return SOCKET_ERROR;
  }
  return 0;
}

int WSPAPI open_current_thread(LPWSATHREADID thread, LPINT error) {
  if (!DuplicateHandle(GetCurrentProcess(), GetCurrentThread(), GetCurrentProcess(), &thread->ThreadHandle, 0, FALSE,
                       DUPLICATE_SAME_ACCESS)) {
    *error = WSAENOBUFS;
    return SOCKET_ERROR;
  }
  thread->Reserved = 0;
  return 0;
}

int WSPAPI close_thread(LPWSATHREADID thread, LPINT) {
  CloseHandle(thread->ThreadHandle);
  return 0;
}

// ws2_32's WPUCompleteOverlappedRequest as its documentation describes it: the byte
// count in InternalHigh, then Internal no longer "in progress"; the event signalled
// and, for a socket on a completion port, a packet queued (unless the low bit of
// hEvent asks for none).
int WSPAPI complete_overlapped(SOCKET s, LPWSAOVERLAPPED overlapped, DWORD error, DWORD bytes, LPINT errno_out) {
  HandleRecord record;
  {
    std::lock_guard lock(handles_mutex);
    auto it = handles.find(s);
    if (it == handles.end()) {
      *errno_out = WSAEINVAL;
      return SOCKET_ERROR;
    }
    record = it->second;
  }
  overlapped->InternalHigh = bytes;
  overlapped->Internal = error;  // never WSS_OPERATION_IN_PROGRESS (0x103) for a Winsock error
  const auto event_bits = reinterpret_cast<ULONG_PTR>(overlapped->hEvent);
  if (event_bits & ~ULONG_PTR{1}) SetEvent(reinterpret_cast<HANDLE>(event_bits & ~ULONG_PTR{1}));
  if (record.port != nullptr && (event_bits & 1) == 0) PostQueuedCompletionStatus(record.port, bytes, record.key, overlapped);
  return 0;
}

WSAEVENT WSPAPI create_event(LPINT) { return CreateEventW(nullptr, TRUE, FALSE, nullptr); }
BOOL WSPAPI close_event(WSAEVENT event, LPINT) { return CloseHandle(event); }
BOOL WSPAPI set_event(WSAEVENT event, LPINT) { return SetEvent(event); }
BOOL WSPAPI reset_event(WSAEVENT event, LPINT) { return ResetEvent(event); }
int WSPAPI fd_is_set(SOCKET s, fd_set* set) { return __WSAFDIsSet(s, set); }
// Window messages are recorded, not posted: tests have no window (or display) to
// post to, and want to see exactly what the LSP sent.
std::mutex posted_mutex;
std::vector<SpiHarness::PostedMessage> posted;

BOOL WSPAPI post_message(HWND window, UINT message, WPARAM w, LPARAM l) {
  std::lock_guard lock(posted_mutex);
  posted.push_back(SpiHarness::PostedMessage{window, message, w, l});
  return TRUE;
}
int WSPAPI query_blocking_callback(DWORD, LPBLOCKINGCALLBACK* callback, PDWORD_PTR context, LPINT) {
  *callback = nullptr;
  *context = 0;
  return 0;
}
int WSPAPI get_provider_path(LPGUID, WCHAR*, LPINT, LPINT error) {
  *error = WSAEINVAL;  // the harness has no catalog
  return SOCKET_ERROR;
}
SOCKET WSPAPI modify_ifs_handle(DWORD, SOCKET proposed, LPINT) { return proposed; }

WSPUPCALLTABLE upcall_table() {
  WSPUPCALLTABLE t{};
  t.lpWPUCloseEvent = close_event;
  t.lpWPUCloseSocketHandle = close_socket_handle;
  t.lpWPUCreateEvent = create_event;
  t.lpWPUCreateSocketHandle = create_socket_handle;
  t.lpWPUFDIsSet = fd_is_set;
  t.lpWPUGetProviderPath = get_provider_path;
  t.lpWPUModifyIFSHandle = modify_ifs_handle;
  t.lpWPUPostMessage = post_message;
  t.lpWPUQueryBlockingCallback = query_blocking_callback;
  t.lpWPUQuerySocketHandleContext = query_socket_handle_context;
  t.lpWPUQueueApc = queue_apc;
  t.lpWPUResetEvent = reset_event;
  t.lpWPUSetEvent = set_event;
  t.lpWPUOpenCurrentThread = open_current_thread;
  t.lpWPUCloseThread = close_thread;
  return t;
}

}  // namespace

SpiHarness::SpiHarness(const std::string& dll_path) {
  WSADATA wsa;
  if (WSAStartup(MAKEWORD(2, 2), &wsa) != 0) throw std::runtime_error("WSAStartup failed");
  dll_ = LoadLibraryA(dll_path.c_str());
  if (dll_ == nullptr) throw std::runtime_error("cannot load " + dll_path + ": error " + std::to_string(GetLastError()));
  auto set_hooks = reinterpret_cast<SluiceLspSetTestHooksFn>(reinterpret_cast<void*>(GetProcAddress(dll_, "SluiceLspSetTestHooks")));
  auto startup = reinterpret_cast<LPWSPSTARTUP>(reinterpret_cast<void*>(GetProcAddress(dll_, "WSPStartup")));
  if (set_hooks == nullptr || startup == nullptr) throw std::runtime_error(dll_path + " lacks WSPStartup or its test hook");
  const SluiceLspTestHooks hooks{winsock_base_startup, complete_overlapped};
  set_hooks(&hooks);
  for (const Chain& chain : kChains) {
    WSAPROTOCOL_INFOW info = chain_info(chain);
    WSPDATA data{};
    WSPPROC_TABLE table{};
    const int rc = startup(MAKEWORD(2, 2), &data, &info, upcall_table(), &table);
    if (rc != 0) throw std::runtime_error("WSPStartup failed with " + std::to_string(rc));
    ++startups_;
    procedures_ = table;  // one table serves every chain
  }
}

SpiHarness::~SpiHarness() {
  for (; startups_ > 0; --startups_) {
    int error = 0;
    procedures_.lpWSPCleanup(&error);
  }
  // As ws2_32 does once the last WSPCleanup returned: a thread the LSP left running
  // would now run unmapped code (lsp_async_test looks for one).
  FreeLibrary(dll_);
  WSACleanup();
}

SOCKET SpiHarness::socket(int family, int type, int* error) const {
  for (const Chain& chain : kChains) {
    if (chain.family != family || chain.type != type) continue;
    WSAPROTOCOL_INFOW info = chain_info(chain);
    return procedures_.lpWSPSocket(family, type, chain.protocol, &info, 0, WSA_FLAG_OVERLAPPED, error);
  }
  *error = WSAEAFNOSUPPORT;
  return INVALID_SOCKET;
}

bool SpiHarness::associate(SOCKET s, HANDLE port, ULONG_PTR key) {
  if (CreateIoCompletionPort(reinterpret_cast<HANDLE>(s), port, key, 0) != port) return false;
  std::lock_guard lock(handles_mutex);
  auto it = handles.find(s);
  if (it == handles.end()) return false;
  it->second.port = port;
  it->second.key = key;
  return true;
}

LPWSATHREADID SpiHarness::this_thread() {
  thread_local WSATHREADID id{};
  thread_local bool opened = false;
  if (!opened) {
    int error = 0;
    opened = open_current_thread(&id, &error) == 0;
  }
  return &id;
}

std::vector<SpiHarness::PostedMessage> SpiHarness::posted_messages() {
  std::lock_guard lock(posted_mutex);
  return posted;
}

int SpiHarness::open_handles() {
  std::lock_guard lock(handles_mutex);
  return static_cast<int>(handles.size());
}

}  // namespace sluice::test
