#pragma once

#include <string>
#include <string_view>

namespace sluice::cli {

// `text` made safe to show on an administrator's terminal. Program paths, comments and
// account names come from other users: a file name holding ESC sequences, a newline or
// a bidi override could forge, reorder or hide rows. C0 and C1 controls and DEL
// become \xNN (\n, \r and \t as themselves escaped), Unicode bidi and zero-width
// format characters become \u{NNNN}, and bytes that are not UTF-8 become \xNN.
// Printable text, UTF-8 included, is left as it is. --json output never goes through
// this: it is exact.
std::string printable(std::string_view text);

}  // namespace sluice::cli
