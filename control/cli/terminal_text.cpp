#include "control/cli/terminal_text.h"

#include <cstdint>

#include <fmt/format.h>

namespace sluice::cli {
namespace {

// Characters that change how the rest of a line is laid out without being seen:
// the bidi embeddings, overrides, isolates and marks, and zero-width joiners.
bool invisible_format(char32_t c) {
  return (c >= 0x200B && c <= 0x200F) || (c >= 0x202A && c <= 0x202E) || (c >= 0x2066 && c <= 0x2069) || c == 0x061C ||
         c == 0xFEFF;
}

// The code point starting at text[i] and its length, or length 0 if the bytes there
// are not well-formed UTF-8 (overlong forms and surrogates included).
std::pair<char32_t, std::size_t> decode(std::string_view text, std::size_t i) {
  const auto byte = [&](std::size_t k) { return static_cast<std::uint8_t>(text[k]); };
  const std::uint8_t b = byte(i);
  std::size_t length;
  char32_t c, min;
  if (b < 0x80) return {b, 1};
  if ((b & 0xE0) == 0xC0) length = 2, c = b & 0x1F, min = 0x80;
  else if ((b & 0xF0) == 0xE0) length = 3, c = b & 0x0F, min = 0x800;
  else if ((b & 0xF8) == 0xF0) length = 4, c = b & 0x07, min = 0x10000;
  else return {0, 0};
  if (i + length > text.size()) return {0, 0};
  for (std::size_t k = 1; k < length; ++k) {
    if ((byte(i + k) & 0xC0) != 0x80) return {0, 0};
    c = (c << 6) | (byte(i + k) & 0x3F);
  }
  if (c < min || c > 0x10FFFF || (c >= 0xD800 && c <= 0xDFFF)) return {0, 0};
  return {c, length};
}

}  // namespace

std::string printable(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (std::size_t i = 0; i < text.size();) {
    const auto [c, length] = decode(text, i);
    if (length == 0) {
      out += fmt::format("\\x{:02x}", static_cast<std::uint8_t>(text[i]));
      ++i;
      continue;
    }
    if (c == '\n') out += "\\n";
    else if (c == '\r') out += "\\r";
    else if (c == '\t') out += "\\t";
    else if (c < 0x20 || c == 0x7F) out += fmt::format("\\x{:02x}", static_cast<unsigned>(c));
    else if (c >= 0x80 && c <= 0x9F) out += fmt::format("\\u{{{:04x}}}", static_cast<unsigned>(c));
    else if (invisible_format(c)) out += fmt::format("\\u{{{:04x}}}", static_cast<unsigned>(c));
    else out.append(text.substr(i, length));
    i += length;
  }
  return out;
}

}  // namespace sluice::cli
