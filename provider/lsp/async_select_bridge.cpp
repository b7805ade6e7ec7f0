#include "provider/lsp/async_select_bridge.h"

#include <algorithm>

#include "provider/lsp/lower_provider.h"

namespace sluice::lsp {

namespace {

// The order messages go out in when one enumeration reports several events: a
// connection is established before it is writable (WSAAsyncSelect: "FD_WRITE ...
// after a connect or accept"), and whatever data came is told before FD_CLOSE.
constexpr long kPostOrder[] = {FD_CONNECT, FD_ACCEPT, FD_READ, FD_OOB, FD_WRITE, FD_QOS,
                               FD_GROUP_QOS, FD_ROUTING_INTERFACE_CHANGE, FD_ADDRESS_LIST_CHANGE, FD_CLOSE};
static_assert(sizeof kPostOrder / sizeof kPostOrder[0] == FD_MAX_EVENTS, "every event has its place");

int bit_of(long event) {
  int bit = 0;
  while ((1L << bit) != event) ++bit;
  return bit;
}

}  // namespace

std::pair<AsyncSelectBridge::Group*, AsyncSelectBridge::Watch*> AsyncSelectBridge::find_locked(SOCKET app) {
  for (auto& group : groups_) {
    for (auto& w : group->watches) {
      if (w.socket->app == app) return {group.get(), &w};
    }
  }
  return {nullptr, nullptr};
}

AsyncSelectBridge::Group* AsyncSelectBridge::group_with_room_locked() {
  for (auto& group : groups_) {
    if (group->watches.size() < kGroupSize) return group.get();
  }
  auto group = std::make_unique<Group>();
  group->bridge = this;
  group->wake = CreateEventW(nullptr, FALSE, FALSE, nullptr);
  if (group->wake == nullptr) return nullptr;
  group->thread = CreateThread(nullptr, 0, &AsyncSelectBridge::thread_main, group.get(), 0, nullptr);
  if (group->thread == nullptr) {
    CloseHandle(group->wake);
    return nullptr;
  }
  groups_.push_back(std::move(group));
  return groups_.back().get();
}

void AsyncSelectBridge::erase_locked(Group& group, Watch* watch) {
  CloseHandle(watch->event);
  group.watches.erase(group.watches.begin() + (watch - group.watches.data()));
  SetEvent(group.wake);  // its thread waits on that event no more
}

int AsyncSelectBridge::select(const std::shared_ptr<LspSocket>& socket, HWND window, unsigned int message, long events,
                              LPWPUPOSTMESSAGE post, LPINT error) {
  std::lock_guard lock(mutex_);
  post_ = post;
  auto [group, watch] = find_locked(socket->app);
  if (events == 0) {
    // "lEvent 0: stop sending messages" (WSAAsyncSelect): cancel below as well.
    if (watch != nullptr) erase_locked(*group, watch);
    return socket->provider->calls.lpWSPEventSelect(socket->lower, nullptr, 0, error);
  }
  if (watch == nullptr) {
    group = group_with_room_locked();
    HANDLE event = group != nullptr ? CreateEventW(nullptr, FALSE, FALSE, nullptr) : nullptr;
    if (event == nullptr) {
      *error = WSAENOBUFS;
      return SOCKET_ERROR;
    }
    group->watches.push_back(Watch{socket, window, message, event});
    watch = &group->watches.back();
  }
  watch->window = window;
  watch->message = message;
  if (socket->provider->calls.lpWSPEventSelect(socket->lower, watch->event, events, error) != 0) {
    erase_locked(*group, watch);
    return SOCKET_ERROR;
  }
  SetEvent(group->wake);
  return 0;
}

void AsyncSelectBridge::forget(SOCKET app) {
  std::lock_guard lock(mutex_);
  auto [group, watch] = find_locked(app);
  if (watch != nullptr) erase_locked(*group, watch);
}

void AsyncSelectBridge::stop() {
  std::vector<std::unique_ptr<Group>> groups;
  {
    std::lock_guard lock(mutex_);
    groups.swap(groups_);
    for (auto& group : groups) {
      group->stopping = true;
      SetEvent(group->wake);
    }
  }
  for (auto& group : groups) {
    WaitForSingleObject(group->thread, INFINITE);
    CloseHandle(group->thread);
    CloseHandle(group->wake);
    for (auto& w : group->watches) CloseHandle(w.event);
  }
}

DWORD WINAPI AsyncSelectBridge::thread_main(void* group) {
  auto& g = *static_cast<Group*>(group);
  g.bridge->run(g);
  return 0;
}

void AsyncSelectBridge::run(Group& group) {
  for (;;) {
    std::vector<HANDLE> handles{group.wake};
    {
      std::lock_guard lock(mutex_);
      if (group.stopping) return;
      for (const auto& w : group.watches) handles.push_back(w.event);
    }
    const DWORD signalled = WaitForMultipleObjects(static_cast<DWORD>(handles.size()), handles.data(), FALSE, INFINITE);
    if (signalled == WAIT_OBJECT_0 || signalled < WAIT_OBJECT_0 || signalled >= WAIT_OBJECT_0 + handles.size()) continue;
    std::lock_guard lock(mutex_);
    if (group.stopping) return;
    auto it = std::find_if(group.watches.begin(), group.watches.end(),
                           [&](const Watch& w) { return w.event == handles[signalled - WAIT_OBJECT_0]; });
    if (it == group.watches.end()) continue;  // forgotten meanwhile
    WSANETWORKEVENTS happened{};
    int error = 0;
    if (it->socket->provider->calls.lpWSPEnumNetworkEvents(it->socket->lower, it->event, &happened, &error) != 0) continue;
    for (const long event : kPostOrder) {
      if ((happened.lNetworkEvents & event) == 0) continue;
      post_(it->window, it->message, static_cast<WPARAM>(it->socket->app),
            WSAMAKESELECTREPLY(event, happened.iErrorCode[bit_of(event)]));
    }
  }
}

}  // namespace sluice::lsp
