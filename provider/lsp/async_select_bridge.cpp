#include "provider/lsp/async_select_bridge.h"

#include <algorithm>

#include "provider/lsp/lower_provider.h"

namespace sluice::lsp {

namespace {

// One wait covers the wake event and at most this many sockets; more sockets than
// that are refused rather than watched late.
constexpr std::size_t kMaxWatches = MAXIMUM_WAIT_OBJECTS - 1;

}  // namespace

AsyncSelectBridge::~AsyncSelectBridge() {
  if (thread_ == nullptr) return;
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
  }
  SetEvent(wake_);
  WaitForSingleObject(thread_, INFINITE);
  CloseHandle(thread_);
  CloseHandle(wake_);
  for (auto& w : watches_) CloseHandle(w.event);
}

void AsyncSelectBridge::ensure_thread() {
  if (thread_ != nullptr) return;
  wake_ = CreateEventW(nullptr, FALSE, FALSE, nullptr);
  thread_ = CreateThread(nullptr, 0, &AsyncSelectBridge::thread_main, this, 0, nullptr);
}

int AsyncSelectBridge::select(const std::shared_ptr<LspSocket>& socket, HWND window, unsigned int message, long events,
                              LPWPUPOSTMESSAGE post, LPINT error) {
  std::lock_guard lock(mutex_);
  post_ = post;
  auto existing = std::find_if(watches_.begin(), watches_.end(), [&](const Watch& w) { return w.socket->app == socket->app; });
  if (events == 0) {
    // "lEvent 0: stop sending messages" (WSAAsyncSelect): cancel below as well.
    if (existing != watches_.end()) {
      CloseHandle(existing->event);
      watches_.erase(existing);
    }
    if (thread_ != nullptr) SetEvent(wake_);
    return socket->provider->calls.lpWSPEventSelect(socket->lower, nullptr, 0, error);
  }
  if (existing == watches_.end()) {
    if (watches_.size() >= kMaxWatches) {
      *error = WSAENOBUFS;
      return SOCKET_ERROR;
    }
    watches_.push_back(Watch{socket, window, message, CreateEventW(nullptr, FALSE, FALSE, nullptr)});
    existing = watches_.end() - 1;
  }
  existing->window = window;
  existing->message = message;
  if (socket->provider->calls.lpWSPEventSelect(socket->lower, existing->event, events, error) != 0) {
    CloseHandle(existing->event);
    watches_.erase(existing);
    return SOCKET_ERROR;
  }
  ensure_thread();
  SetEvent(wake_);
  return 0;
}

void AsyncSelectBridge::forget(SOCKET app) {
  std::lock_guard lock(mutex_);
  auto it = std::find_if(watches_.begin(), watches_.end(), [&](const Watch& w) { return w.socket->app == app; });
  if (it == watches_.end()) return;
  CloseHandle(it->event);
  watches_.erase(it);
  SetEvent(wake_);
}

DWORD WINAPI AsyncSelectBridge::thread_main(void* self) {
  static_cast<AsyncSelectBridge*>(self)->run();
  return 0;
}

void AsyncSelectBridge::run() {
  for (;;) {
    std::vector<HANDLE> handles{wake_};
    {
      std::lock_guard lock(mutex_);
      if (stopping_) return;
      for (const auto& w : watches_) handles.push_back(w.event);
    }
    const DWORD signalled = WaitForMultipleObjects(static_cast<DWORD>(handles.size()), handles.data(), FALSE, INFINITE);
    if (signalled == WAIT_OBJECT_0 || signalled < WAIT_OBJECT_0 || signalled >= WAIT_OBJECT_0 + handles.size()) continue;
    std::lock_guard lock(mutex_);
    auto it = std::find_if(watches_.begin(), watches_.end(),
                           [&](const Watch& w) { return w.event == handles[signalled - WAIT_OBJECT_0]; });
    if (it == watches_.end()) continue;  // forgotten meanwhile
    WSANETWORKEVENTS happened{};
    int error = 0;
    if (it->socket->provider->calls.lpWSPEnumNetworkEvents(it->socket->lower, it->event, &happened, &error) != 0) continue;
    for (int bit = 0; bit < FD_MAX_EVENTS; ++bit) {
      if ((happened.lNetworkEvents & (1L << bit)) == 0) continue;
      post_(it->window, it->message, static_cast<WPARAM>(it->socket->app),
            WSAMAKESELECTREPLY(1L << bit, happened.iErrorCode[bit]));
    }
  }
}

}  // namespace sluice::lsp
