#pragma once

// Registration of the "Sluice" source in the Application Event Log, for
// `sluiced service install|uninstall` (win_event_source.cpp).

#include <string>

namespace sluice {

// Creates or updates HKLM\SYSTEM\CurrentControlSet\Services\EventLog\Application\Sluice
// with EventMessageFile = `message_file` (sluiced.exe, which holds the message table)
// and TypesSupported = error|warning|information. Returns an empty string on success,
// otherwise what failed (with the Win32 error text).
std::string register_event_source(const std::string& message_file);

// Removes that key; success when it does not exist. Returns the failure, or "".
std::string remove_event_source();

}  // namespace sluice
