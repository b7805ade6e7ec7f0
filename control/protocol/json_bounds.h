#pragma once

// Bounds on the JSON a peer may send, checked on the raw text before any tree is
// built. nlohmann's tree copies, compares, dumps and destroys recursively, so a
// frame of 200 KB nested 100 000 arrays deep would exhaust the stack of whichever
// thread touched it; a 1 MiB batch of half a million trivial members would cost
// hundreds of MiB of answers. The scan is linear and keeps three counters.

#include <cstddef>
#include <string_view>

#include <nlohmann/json.hpp>

namespace sluice::protocol {

inline constexpr std::size_t kMaxJsonDepth = 64;     // arrays and objects, the outermost one counts as 1
inline constexpr std::size_t kMaxBatchMembers = 64;  // requests in one JSON-RPC batch

struct JsonShape {
  bool too_deep = false;          // some value is nested deeper than max_depth
  bool top_level_array = false;   // the text starts with '[' (a batch)
  std::size_t batch_members = 0;  // members of that array, counted up to max_members + 1
};

// Scans `text` as JSON punctuation (strings and their escapes skipped), stopping as
// soon as the depth passes `max_depth` or the top-level array's members pass
// `max_members`. Says nothing about validity: the parser that runs afterwards does.
JsonShape scan_json_shape(std::string_view text, std::size_t max_depth = kMaxJsonDepth,
                          std::size_t max_members = kMaxBatchMembers);

// json::parse for text from another process: discarded (like an invalid document)
// when it is nested deeper than `max_depth`, so no tree of unbounded depth exists.
nlohmann::json parse_bounded(std::string_view text, std::size_t max_depth = kMaxJsonDepth);

}  // namespace sluice::protocol
