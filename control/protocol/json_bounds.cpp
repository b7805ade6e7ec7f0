#include "control/protocol/json_bounds.h"

namespace sluice::protocol {

JsonShape scan_json_shape(std::string_view text, std::size_t max_depth, std::size_t max_members) {
  JsonShape shape;
  std::size_t depth = 0;
  bool in_string = false;
  bool escaped = false;
  bool seen_top_level = false;   // the first top-level value has begun
  bool expect_member = false;    // inside the top-level array, before a member
  for (const char c : text) {
    if (in_string) {
      if (escaped) escaped = false;
      else if (c == '\\') escaped = true;
      else if (c == '"') in_string = false;
      continue;
    }
    if (c == ' ' || c == '\t' || c == '\n' || c == '\r') continue;
    if (expect_member && depth == 1 && c != ']') {
      expect_member = false;
      if (++shape.batch_members > max_members) return shape;
    }
    switch (c) {
      case '"': in_string = true; break;
      case '[':
      case '{':
        if (++depth > max_depth) {
          shape.too_deep = true;
          return shape;
        }
        if (depth == 1 && !seen_top_level && c == '[') {
          shape.top_level_array = true;
          expect_member = true;
        }
        seen_top_level = true;
        break;
      case ']':
      case '}':
        if (depth > 0) --depth;
        if (depth == 0) expect_member = false;  // the batch is over; anything after is the parser's to refuse
        break;
      case ',':
        if (depth == 1 && shape.top_level_array) expect_member = true;
        break;
      default: seen_top_level = true; break;
    }
  }
  return shape;
}

nlohmann::json parse_bounded(std::string_view text, std::size_t max_depth) {
  if (scan_json_shape(text, max_depth, static_cast<std::size_t>(-1) - 1).too_deep) return nlohmann::json::value_t::discarded;
  return nlohmann::json::parse(text, nullptr, /*allow_exceptions=*/false);
}

}  // namespace sluice::protocol
