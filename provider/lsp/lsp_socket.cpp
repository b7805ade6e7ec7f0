#include "provider/lsp/lsp_socket.h"

#include <mutex>

#include "provider/lsp/spi.h"

namespace sluice::lsp {

LspSocket::~LspSocket() {
  int ignored = 0;
  if (app != INVALID_SOCKET) spi().upcalls.lpWPUCloseSocketHandle(app, &ignored);
}

void SocketRegistry::add(std::shared_ptr<LspSocket> socket) {
  std::unique_lock lock(mutex_);
  app_by_lower_[socket->lower] = socket->app;
  by_app_[socket->app] = std::move(socket);
}

std::shared_ptr<LspSocket> SocketRegistry::find(SOCKET app) const {
  std::shared_lock lock(mutex_);
  auto it = by_app_.find(app);
  return it == by_app_.end() ? nullptr : it->second;
}

std::shared_ptr<LspSocket> SocketRegistry::remove(SOCKET app) {
  std::unique_lock lock(mutex_);
  auto it = by_app_.find(app);
  if (it == by_app_.end()) return nullptr;
  auto socket = std::move(it->second);
  by_app_.erase(it);
  app_by_lower_.erase(socket->lower);
  return socket;
}

SOCKET SocketRegistry::app_handle_of(SOCKET lower) const {
  std::shared_lock lock(mutex_);
  auto it = app_by_lower_.find(lower);
  return it == app_by_lower_.end() ? INVALID_SOCKET : it->second;
}

}  // namespace sluice::lsp
