#pragma once

// Sizes and rates as administrators type them ("10GB", "1.5 MiB", "800kbit/s") and as
// Sluice prints them ("1.5 KiB", "1 MiB/s"). Platform-neutral, exact integer arithmetic.

#include <cstdint>
#include <stdexcept>
#include <string>
#include <string_view>

namespace sluice::units {

// Thrown for any text that is not a size or rate. what() quotes the offending value and
// lists the accepted units.
class UnitError : public std::invalid_argument {
 public:
  using std::invalid_argument::invalid_argument;
};

// A byte count: a non-negative decimal number ("4096", "1.5"), optionally followed
// (spaces allowed in between) by one of
//   B                                  bytes
//   kB or KB, MB, GB, TB               decimal: 1e3, 1e6, 1e9, 1e12 bytes
//   KiB, MiB, GiB, TiB                 binary: 2^10, 2^20, 2^30, 2^40 bytes
//   bit, kbit, Mbit, Gbit              bits (decimal prefixes), 8 bits a byte
// Unit letters are case-sensitive as written; "kb", "Mb", "gb"... are rejected as
// ambiguous (bytes or bits?). Fractions round to the nearest byte (halves up).
// Leading and trailing blanks are ignored. Throws UnitError.
std::uint64_t parse_size(std::string_view text);

// A byte rate per second: a size followed by "/s" ("1.5MiB/s", "800kbit/s"), or a bare
// number meaning bytes per second. Throws UnitError (also for a unit without "/s").
std::uint64_t parse_rate(std::string_view text);

// A size or rate with the unit it was written in, to show it back the way the
// administrator wrote it: "10GB" is {10000000000, "GB"}, "1.5MiB/s" {1572864, "MiB"}
// (the unit without "/s"). Unlike parse_size and parse_rate, a bare number is
// refused: "4096" might be bytes or a unit forgotten, so bytes are written "4096B".
struct TypedAmount {
  std::uint64_t value = 0;
  std::string unit;
};
TypedAmount parse_size_as_typed(std::string_view text);
TypedAmount parse_rate_as_typed(std::string_view text);

// True for a unit parse_size accepts ("B", "GB", "MiB", "kbit", ...).
bool is_unit(std::string_view unit);

// `bytes` in `unit`, at most three decimals, trailing zeros trimmed: (10000000000,
// "GB") -> "10 GB", (100000, "kbit") -> "800 kbit". An empty or unknown unit, or a
// figure too long for its unit, gives format_size's.
std::string format_size_in(std::uint64_t bytes, std::string_view unit);
// format_size_in + "/s".
std::string format_rate_in(std::uint64_t bytes_per_second, std::string_view unit);

// Binary units, at most three decimals, trailing zeros trimmed:
// 0 -> "0 B", 1023 -> "1023 B", 1536 -> "1.5 KiB", 1048576 -> "1 MiB". Units go up to
// TiB. parse_size(format_size(n)) is within 0.05% of n (exact below 1 KiB).
std::string format_size(std::uint64_t bytes);
// format_size + "/s": "1.5 KiB/s".
std::string format_rate(std::uint64_t bytes_per_second);

}  // namespace sluice::units
