#include "service/policy/rule.h"

#include <cstddef>
#include <string_view>

namespace sluice::policy {
namespace {

// ASCII case-insensitive equality against a lowercase keyword.
bool equals_keyword(const std::string& text, std::string_view keyword) {
  if (text.size() != keyword.size()) return false;
  for (std::size_t i = 0; i < text.size(); ++i) {
    char c = text[i];
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
    if (c != keyword[i]) return false;
  }
  return true;
}

}  // namespace

bool decides_alike(const Rule& a, const Rule& b) {
  return a.app == b.app && a.user == b.user && a.protocol == b.protocol && a.destinations == b.destinations &&
         a.ports == b.ports && a.action == b.action && a.rate == b.rate;
}

bool same_content(const Rule& a, const Rule& b) { return decides_alike(a, b) && a.enabled == b.enabled && a.comment == b.comment; }

const char* to_string(Action action) {
  switch (action) {
    case Action::direct: return "direct";
    case Action::relay: return "relay";
    case Action::block: return "block";
  }
  return "unknown";
}

const char* to_string(Protocol protocol) {
  switch (protocol) {
    case Protocol::any: return "any";
    case Protocol::tcp: return "tcp";
    case Protocol::udp: return "udp";
  }
  return "unknown";
}

// Keywords are accepted in any ASCII case ("Block", "TCP"); to_string gives lowercase.
std::optional<Action> parse_action(const std::string& text) {
  if (equals_keyword(text, "direct")) return Action::direct;
  if (equals_keyword(text, "relay")) return Action::relay;
  if (equals_keyword(text, "block")) return Action::block;
  return std::nullopt;
}

std::optional<Protocol> parse_protocol(const std::string& text) {
  if (equals_keyword(text, "any")) return Protocol::any;
  if (equals_keyword(text, "tcp")) return Protocol::tcp;
  if (equals_keyword(text, "udp")) return Protocol::udp;
  return std::nullopt;
}

}  // namespace sluice::policy
