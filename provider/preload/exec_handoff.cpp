#include "provider/preload/exec_handoff.h"

#include <fcntl.h>
#include <sys/stat.h>

#include <charconv>
#include <cstring>

#include "provider/preload/real_calls.h"

namespace sluice::preload {

namespace {

std::string endpoint_text(const net::Endpoint& a) { return net::format_ip(a.ip) + "#" + std::to_string(a.port); }

template <typename T>
bool parse_number(std::string_view text, T& out) {
  auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), out);
  return error == std::errc() && end == text.data() + text.size();
}

std::optional<net::Endpoint> parse_endpoint(std::string_view text) {
  const auto hash = text.rfind('#');
  std::uint16_t port = 0;
  if (hash == std::string_view::npos || !parse_number(text.substr(hash + 1), port)) return std::nullopt;
  return net::parse_endpoint(std::string(text.substr(0, hash)), port);
}

std::vector<std::string_view> split(std::string_view text, char separator) {
  std::vector<std::string_view> parts;
  for (;;) {
    const auto at = text.find(separator);
    parts.push_back(text.substr(0, at));
    if (at == std::string_view::npos) return parts;
    text.remove_prefix(at + 1);
  }
}

std::optional<HandoffEntry> parse_entry(std::string_view text) {
  const auto fields = split(text, '/');
  if (fields.size() != 6) return std::nullopt;
  HandoffEntry entry;
  if (!parse_number(fields[0], entry.fd) || !parse_number(fields[1], entry.inode) || !parse_number(fields[2], entry.family)) {
    return std::nullopt;
  }
  if (fields[3] != "udp" && fields[3] != "tcp") return std::nullopt;
  entry.udp = fields[3] == "udp";
  if (fields[4] != "-") {
    entry.original_peer = parse_endpoint(fields[4]);
    if (!entry.original_peer) return std::nullopt;
  }
  if (!fields[5].empty()) {
    for (std::string_view route_text : split(fields[5], '+')) {
      const auto parts = split(route_text, '>');
      Route route;
      route.kind = RouteKind::relay;
      auto destination = parts.size() == 3 ? parse_endpoint(parts[0]) : std::nullopt;
      auto relay = parts.size() == 3 ? parse_endpoint(parts[1]) : std::nullopt;
      if (!destination || !relay || !parse_number(parts[2], route.flow_id)) return std::nullopt;
      route.destination = *destination;
      route.relay = *relay;
      entry.relay_routes.push_back(route);
    }
  }
  return entry;
}

bool same_route(const Route& a, const Route& b) {
  return a.destination == b.destination && a.kind == b.kind && a.relay == b.relay && a.flow_id == b.flow_id;
}

}  // namespace

bool HandoffEntry::operator==(const HandoffEntry& o) const {
  if (fd != o.fd || inode != o.inode || family != o.family || udp != o.udp || original_peer != o.original_peer) return false;
  if (relay_routes.size() != o.relay_routes.size()) return false;
  for (std::size_t i = 0; i < relay_routes.size(); ++i) {
    if (!same_route(relay_routes[i], o.relay_routes[i])) return false;
  }
  return true;
}

std::string encode_handoff(const std::vector<HandoffEntry>& entries) {
  std::string out;
  for (const auto& e : entries) {
    if (!out.empty()) out += ' ';
    out += std::to_string(e.fd) + "/" + std::to_string(e.inode) + "/" + std::to_string(e.family) + "/" +
           (e.udp ? "udp" : "tcp") + "/" + (e.original_peer ? endpoint_text(*e.original_peer) : "-") + "/";
    bool first = true;
    for (const Route& r : e.relay_routes) {
      if (!first) out += '+';
      first = false;
      out += endpoint_text(r.destination) + ">" + endpoint_text(r.relay) + ">" + std::to_string(r.flow_id);
    }
  }
  return out;
}

std::vector<HandoffEntry> decode_handoff(std::string_view text) {
  std::vector<HandoffEntry> entries;
  for (std::string_view part : split(text, ' ')) {
    if (part.empty()) continue;
    if (auto entry = parse_entry(part)) entries.push_back(std::move(*entry));
  }
  return entries;
}

std::vector<std::string> environment_for_exec(char* const* environment, SocketTable& table) {
  const std::string prefix = std::string(kHandoffVariable) + "=";
  std::vector<std::string> out;
  for (char* const* e = environment; e != nullptr && *e != nullptr; ++e) {
    if (std::strncmp(*e, prefix.c_str(), prefix.size()) != 0) out.emplace_back(*e);
  }
  std::vector<HandoffEntry> entries;
  table.for_each([&](int fd, const std::shared_ptr<SocketState>& state) {
    HandoffEntry entry;
    entry.original_peer = state->original_peer();
    for (const Route& r : state->routes()) {
      if (r.kind == RouteKind::relay) entry.relay_routes.push_back(r);
    }
    if (!entry.original_peer && entry.relay_routes.empty()) return;
    const int flags = real().fcntl(fd, F_GETFD);
    struct stat st;
    if (flags < 0 || (flags & FD_CLOEXEC) != 0 || ::fstat(fd, &st) != 0) return;
    entry.fd = fd;
    entry.inode = st.st_ino;
    entry.family = state->family();
    entry.udp = state->udp();
    entries.push_back(std::move(entry));
  });
  if (!entries.empty()) out.push_back(prefix + encode_handoff(entries));
  return out;
}

void restore_handoff(std::string_view text, SocketTable& table) {
  for (const HandoffEntry& e : decode_handoff(text)) {
    struct stat st;
    if (::fstat(e.fd, &st) != 0 || !S_ISSOCK(st.st_mode) || st.st_ino != e.inode) continue;
    auto state = std::make_shared<SocketState>(e.family, /*steered=*/true, e.udp);
    state->set_original_peer(e.original_peer);
    for (const Route& r : e.relay_routes) state->remember(r);
    table.set(e.fd, std::move(state));
  }
}

}  // namespace sluice::preload
