#pragma once

// What the fuzz targets share. A property that does not hold stops the run with
// a message: libFuzzer then reports a crash and saves the input that caused it
// (an exception escaping the target does the same, through std::terminate).

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>

namespace sluice::fuzz {

[[noreturn]] inline void property_failed(std::string_view property, std::string_view detail) {
  std::fprintf(stderr, "\nproperty does not hold: %.*s\n  %.*s\n", static_cast<int>(property.size()), property.data(),
               static_cast<int>(detail.size()), detail.data());
  std::abort();
}

inline void expect(bool holds, std::string_view property, std::string_view detail = {}) {
  if (!holds) property_failed(property, detail);
}

inline std::string_view as_text(const std::uint8_t* data, std::size_t size) {
  return {reinterpret_cast<const char*>(data), size};
}

// Printable form of arbitrary bytes for a property message.
inline std::string quoted(std::string_view bytes) {
  std::string out = "\"";
  for (unsigned char c : bytes) {
    if (c >= 0x20 && c < 0x7f && c != '"' && c != '\\') {
      out += static_cast<char>(c);
    } else {
      char escaped[8];
      std::snprintf(escaped, sizeof escaped, "\\x%02x", c);
      out += escaped;
    }
  }
  return out + "\"";
}

}  // namespace sluice::fuzz
