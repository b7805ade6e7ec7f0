#pragma once

// The systemd notification protocol (sd_notify(3)), written out rather than taken
// from libsystemd: one datagram of "KEY=VALUE" lines sent to the AF_UNIX socket
// named by $NOTIFY_SOCKET. A name starting with '@' is in the abstract namespace.
// See notify_service_manager() in host.h for what sluiced sends and when.

#include <string>
#include <string_view>

namespace sluice::service {

// Sends `state` (e.g. "READY=1") to the datagram socket `socket_name` ("/run/..."
// or "@abstract"). False when the name is unusable or the send failed; the reason
// is in `error` when it is given.
bool send_notify_message(std::string_view socket_name, std::string_view state, std::string* error = nullptr);

}  // namespace sluice::service
