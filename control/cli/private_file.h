#pragma once

#include <string>

namespace sluice::cli {

// Writes `text` to `path` in one step, readable by its owner alone: a temporary file
// made in the target's directory, accessible to the owner only from the moment it
// exists (POSIX 0600; Windows an owner-only DACL), then renamed over the target. On
// any failure the temporary file is removed, so nothing holding the text is left
// behind. An exported policy says who may go where, which a local attacker would
// like to read. Throws CommandFailed naming the path and the reason, with status
// kExitUsage when the path itself is wrong (a directory, no such directory).
// posix_private_file.cpp, win_private_file.cpp.
void write_private_file(const std::string& path, const std::string& text);

}  // namespace sluice::cli
