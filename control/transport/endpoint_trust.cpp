#include "control/transport/endpoint_trust.h"

namespace sluice::transport {

namespace {

constexpr std::uint32_t kRoot = 0;
constexpr std::uint32_t kGroupOrOtherWrite = 0022;
constexpr std::uint32_t kSticky = 01000;

std::string owner_text(std::uint32_t uid) { return "uid " + std::to_string(uid); }

}  // namespace

std::string endpoint_directory(const std::string& path) {
  const auto slash = path.rfind('/');
  if (slash == std::string::npos) return ".";
  return slash == 0 ? "/" : path.substr(0, slash);
}

std::optional<std::string> endpoint_distrust(const std::string& path, const PathFacts& directory, const PathFacts& socket,
                                             std::uint32_t caller) {
  const std::string where = endpoint_directory(path);
  const auto trusted_owner = [caller](std::uint32_t uid) { return uid == kRoot || uid == caller; };
  if (!directory.exists || !directory.is_directory) return where + " is not a directory";
  if (!trusted_owner(directory.owner)) {
    return "its directory " + where + " belongs to " + owner_text(directory.owner) +
           ", neither root nor you: another user may have put the socket there";
  }
  if ((directory.mode & kGroupOrOtherWrite) != 0 && (directory.mode & kSticky) == 0) {
    return "its directory " + where + " may be written by other users (not sticky): any of them could replace the socket";
  }
  if (!socket.exists) return std::nullopt;  // nothing there yet: connecting will say so
  if (!socket.is_socket) return path + " is not a socket";
  if (!trusted_owner(socket.owner)) {
    return "the socket belongs to " + owner_text(socket.owner) +
           ", neither root nor you: another user may have planted it (set XDG_RUNTIME_DIR or --control to your service's socket)";
  }
  return std::nullopt;
}

}  // namespace sluice::transport
