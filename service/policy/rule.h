#pragma once

// The policy's data model: what a rule says and what a flow looks like when it is
// decided. Plain values, no I/O: the store persists them, the matcher compiles them.

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "net/ip_address.h"

namespace sluice::policy {

enum class Action { direct, relay, block };
enum class Protocol { any, tcp, udp };

// An address prefix. For IPv4 CIDRs `prefix_length` counts within the mapped form
// (a.b.c.d/24 is stored as ::ffff:a.b.c.d/120).
struct Cidr {
  net::IpAddress network;
  int prefix_length = 0;   // 0..128
  bool operator==(const Cidr&) const = default;
};

struct PortRange {
  std::uint16_t first = 0;
  std::uint16_t last = 65535;
  bool operator==(const PortRange&) const = default;
};

// Per-direction byte rates; nullopt = unlimited. "up" is the application sending,
// "down" the application receiving.
struct Rates {
  std::optional<std::uint64_t> up;
  std::optional<std::uint64_t> down;
  bool operator==(const Rates&) const = default;
};

struct Rule {
  std::int64_t id = 0;             // assigned by the store
  std::int64_t position = 0;       // evaluation order, 1 = first; dense
  bool enabled = true;
  std::string comment;
  // Application: a full executable path, or a glob over it ("*" within one path
  // component, "**" across components, "?" one character). "**" alone matches
  // every program.
  std::string app = "**";
  std::optional<std::string> user;  // uid or user name (Linux), SID or DOMAIN\user (Windows)
  Protocol protocol = Protocol::any;
  std::vector<Cidr> destinations;   // empty = any address
  std::vector<PortRange> ports;     // empty = any port
  Action action = Action::direct;
  Rates rate;                       // per-rule limit, on top of application quotas
  // The unit each amount was written in, to show it so: {"rate.up": "MB"} shows
  // 1000000 as "1 MB/s". Display only: never part of what a rule decides.
  std::map<std::string, std::string> units;
  std::string created_at, updated_at;
};

// Everything the matcher knows about a new flow.
struct FlowKey {
  std::string app;                  // full executable path
  std::vector<std::string> user_ids; // e.g. {"1000", "alice"} or {"S-1-5-21-...", "HOST\\alice"}
  Protocol protocol = Protocol::tcp;  // tcp or udp, never any
  net::IpAddress destination;
  std::uint16_t port = 0;
};

struct Decision {
  Action action = Action::direct;
  std::optional<std::int64_t> rule_id;  // nullopt: no rule matched, the default action applied
  Rates rate;                           // the matching rule's limits
};

// Two rules that decide the same flows the same way (comment and switch aside).
bool decides_alike(const Rule& a, const Rule& b);
// Two rules that say the same in every field an administrator sets: decides_alike,
// and the same comment and enabled switch. Ids, positions and timestamps aside.
bool same_content(const Rule& a, const Rule& b);

const char* to_string(Action action);
const char* to_string(Protocol protocol);
std::optional<Action> parse_action(const std::string& text);
std::optional<Protocol> parse_protocol(const std::string& text);

}  // namespace sluice::policy
