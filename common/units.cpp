#include "common/units.h"

#include <array>
#include <cstddef>

namespace sluice::units {
namespace {

// ---------------------------------------------------------------------------------
// A minimal unsigned 128-bit integer (no compiler extensions: MSVC has no __int128),
// enough for exact "number x unit" arithmetic with overflow detection.

struct U128 {
  std::uint64_t hi = 0;
  std::uint64_t lo = 0;
};

U128 mul64(std::uint64_t a, std::uint64_t b) {
  const std::uint64_t a_lo = a & 0xffffffffu, a_hi = a >> 32;
  const std::uint64_t b_lo = b & 0xffffffffu, b_hi = b >> 32;
  const std::uint64_t ll = a_lo * b_lo, lh = a_lo * b_hi, hl = a_hi * b_lo, hh = a_hi * b_hi;
  const std::uint64_t mid = (ll >> 32) + (lh & 0xffffffffu) + (hl & 0xffffffffu);
  U128 r;
  r.lo = (mid << 32) | (ll & 0xffffffffu);
  r.hi = hh + (lh >> 32) + (hl >> 32) + (mid >> 32);
  return r;
}

// x *= m; false on overflow.
bool mul_in_place(U128& x, std::uint64_t m) {
  const U128 low = mul64(x.lo, m);
  const U128 high = mul64(x.hi, m);
  if (high.hi != 0) return false;
  const std::uint64_t hi = low.hi + high.lo;
  if (hi < low.hi) return false;
  x.hi = hi;
  x.lo = low.lo;
  return true;
}

// x += a; false on overflow.
bool add_in_place(U128& x, const U128& a) {
  const std::uint64_t lo = x.lo + a.lo;
  const std::uint64_t carry = lo < x.lo ? 1 : 0;
  const std::uint64_t hi = x.hi + a.hi;
  if (hi < x.hi) return false;
  const std::uint64_t hi2 = hi + carry;
  if (hi2 < hi) return false;
  x.hi = hi2;
  x.lo = lo;
  return true;
}

// q = x / d, returns x % d (d != 0).
std::uint64_t divmod(const U128& x, std::uint64_t d, U128& q) {
  q.hi = x.hi / d;
  std::uint64_t r = x.hi % d;
  q.lo = 0;
  for (int bit = 63; bit >= 0; --bit) {
    const bool top = (r >> 63) != 0;
    r = (r << 1) | ((x.lo >> bit) & 1u);
    if (top || r >= d) {
      r -= d;
      q.lo |= std::uint64_t{1} << bit;
    }
  }
  return r;
}

// ---------------------------------------------------------------------------------

enum class Kind { size, rate, typed_rate };  // typed_rate: a rate that needs its unit

struct Unit {
  std::string_view name;
  std::uint64_t multiplier;  // bytes per unit, times `divisor`
  std::uint64_t divisor;     // 8 for bit units, else 1
};

constexpr std::array<Unit, 14> kUnits{{
    {"B", 1, 1},
    {"kB", 1000, 1},
    {"KB", 1000, 1},
    {"MB", 1000 * 1000, 1},
    {"GB", 1000ull * 1000 * 1000, 1},
    {"TB", 1000ull * 1000 * 1000 * 1000, 1},
    {"KiB", 1ull << 10, 1},
    {"MiB", 1ull << 20, 1},
    {"GiB", 1ull << 30, 1},
    {"TiB", 1ull << 40, 1},
    {"bit", 1, 8},
    {"kbit", 1000, 8},
    {"Mbit", 1000 * 1000, 8},
    {"Gbit", 1000ull * 1000 * 1000, 8},
}};

constexpr std::string_view kSizeUnitList =
    "use a number with B, kB, MB, GB, TB, KiB, MiB, GiB, TiB, bit, kbit, Mbit or Gbit";
constexpr std::string_view kRateUnitList =
    "use a number with B/s, kB/s, MB/s, GB/s, TB/s, KiB/s, MiB/s, GiB/s, TiB/s, bit/s, "
    "kbit/s, Mbit/s or Gbit/s, or a bare number of bytes per second";

constexpr std::string_view kTypedRateUnitList =
    "use a number with B/s, kB/s, MB/s, GB/s, TB/s, KiB/s, MiB/s, GiB/s, TiB/s, bit/s, kbit/s, Mbit/s or Gbit/s";

[[noreturn]] void fail(std::string_view original, Kind kind, std::string_view reason) {
  std::string message;
  message.reserve(original.size() + reason.size() + 200);
  message += '\'';
  message += original;
  message += kind == Kind::size ? "' is not a size" : "' is not a rate";
  if (!reason.empty()) {
    message += ": ";
    message += reason;
  }
  message += " (";
  message += kind == Kind::size ? kSizeUnitList : kind == Kind::rate ? kRateUnitList : kTypedRateUnitList;
  message += ')';
  throw UnitError(message);
}

bool is_blank(char c) { return c == ' ' || c == '\t'; }
bool is_digit(char c) { return c >= '0' && c <= '9'; }
char lower(char c) { return c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c; }

std::string_view trim(std::string_view s) {
  while (!s.empty() && is_blank(s.front())) s.remove_prefix(1);
  while (!s.empty() && is_blank(s.back())) s.remove_suffix(1);
  return s;
}

bool iequals(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i) {
    if (lower(a[i]) != lower(b[i])) return false;
  }
  return true;
}

// Why a unit was not accepted, for the error message.
std::string explain_unit(std::string_view unit) {
  // A lowercase "b" after a decimal prefix: bytes or bits? Refuse to guess.
  if (unit == "b") return "\"b\" is ambiguous, write B (bytes) or bit (bits)";
  if (unit.size() == 2 && unit[1] == 'b') {
    switch (lower(unit[0])) {
      case 'k': return "\"" + std::string(unit) + "\" is ambiguous, write kB (bytes) or kbit (bits)";
      case 'm': return "\"" + std::string(unit) + "\" is ambiguous, write MB (bytes) or Mbit (bits)";
      case 'g': return "\"" + std::string(unit) + "\" is ambiguous, write GB (bytes) or Gbit (bits)";
      case 't': return "\"" + std::string(unit) + "\" is ambiguous, write TB (bytes)";
      default: break;
    }
  }
  for (const Unit& u : kUnits) {
    if (iequals(unit, u.name)) {
      return "write the unit \"" + std::string(unit) + "\" as " + std::string(u.name);
    }
  }
  return {};
}

struct Quantity {
  std::uint64_t value = 0;
  bool has_unit = false;
  std::string_view unit;  // as written, one of kUnits
};

// Parses "<number>[blanks]<unit>" (already trimmed); errors quote `original`.
Quantity parse_quantity(std::string_view text, std::string_view original, Kind kind) {
  if (text.empty()) fail(original, kind, {});
  if (text.front() == '-') fail(original, kind, kind == Kind::size ? "sizes cannot be negative" : "rates cannot be negative");
  std::size_t i = 0;
  U128 integer;
  bool overflow = false;
  while (i < text.size() && is_digit(text[i])) {
    if (!overflow) {
      overflow = !mul_in_place(integer, 10) ||
                 !add_in_place(integer, U128{0, static_cast<std::uint64_t>(text[i] - '0')});
    }
    ++i;
  }
  if (i == 0) fail(original, kind, {});
  std::uint64_t fraction = 0;  // the first `fraction_digits` digits after the point
  int fraction_digits = 0;
  std::uint64_t scale = 1;     // 10^fraction_digits
  if (i < text.size() && text[i] == '.') {
    ++i;
    const std::size_t start = i;
    while (i < text.size() && is_digit(text[i])) {
      if (fraction_digits < 18) {  // beyond 1e-18 of a unit nothing changes a byte count
        fraction = fraction * 10 + static_cast<std::uint64_t>(text[i] - '0');
        scale *= 10;
        ++fraction_digits;
      }
      ++i;
    }
    if (i == start) fail(original, kind, {});
  }
  while (i < text.size() && is_blank(text[i])) ++i;
  const std::string_view unit_text = text.substr(i);

  Unit unit{"B", 1, 1};
  Quantity result;
  if (!unit_text.empty()) {
    bool found = false;
    for (const Unit& u : kUnits) {
      if (u.name == unit_text) {
        unit = u;
        found = true;
        break;
      }
    }
    if (!found) fail(original, kind, explain_unit(unit_text));
    result.has_unit = true;
    result.unit = unit.name;
  }

  // value = (integer + fraction/scale) * multiplier / divisor, rounded half up.
  const std::string too_large = kind == Kind::size
                                    ? "too large (at most 18446744073709551615 bytes)"
                                    : "too large (at most 18446744073709551615 bytes per second)";
  U128 total = integer;
  if (overflow || !mul_in_place(total, unit.multiplier)) fail(original, kind, too_large);
  U128 fraction_product = mul64(fraction, unit.multiplier);
  U128 fraction_whole;
  const std::uint64_t fraction_rest = divmod(fraction_product, scale, fraction_whole);
  if (!add_in_place(total, fraction_whole)) fail(original, kind, too_large);
  U128 quotient;
  const std::uint64_t remainder = divmod(total, unit.divisor, quotient);
  if (quotient.hi != 0) fail(original, kind, too_large);
  // Remaining fraction of a byte: (remainder + fraction_rest/scale) / divisor.
  // remainder < 8 and scale <= 1e18, so this fits in 64 bits.
  if (2 * (remainder * scale + fraction_rest) >= unit.divisor * scale) {
    if (quotient.lo == UINT64_MAX) fail(original, kind, too_large);
    ++quotient.lo;
  }
  result.value = quotient.lo;
  return result;
}

}  // namespace

std::uint64_t parse_size(std::string_view text) {
  return parse_quantity(trim(text), text, Kind::size).value;
}

std::uint64_t parse_rate(std::string_view text) {
  std::string_view t = trim(text);
  if (t.size() >= 2 && t.substr(t.size() - 2) == "/s") {
    const std::string_view size = trim(t.substr(0, t.size() - 2));
    return parse_quantity(size, text, Kind::rate).value;
  }
  if (t.find('/') != std::string_view::npos) fail(text, Kind::rate, "only \"/s\" (per second) is accepted");
  const Quantity q = parse_quantity(t, text, Kind::rate);
  if (q.has_unit) {
    fail(text, Kind::rate, "a rate needs \"/s\", as in \"" + std::string(t) + "/s\"");
  }
  return q.value;
}

TypedAmount parse_size_as_typed(std::string_view text) {
  const std::string_view t = trim(text);
  const Quantity q = parse_quantity(t, text, Kind::size);
  if (!q.has_unit) fail(text, Kind::size, "a number needs a unit; for bytes write \"" + std::string(t) + "B\"");
  return {q.value, std::string(q.unit)};
}

TypedAmount parse_rate_as_typed(std::string_view text) {
  const std::string_view t = trim(text);
  const bool per_second = t.size() >= 2 && t.substr(t.size() - 2) == "/s";
  const std::string_view number = per_second ? trim(t.substr(0, t.size() - 2)) : t;
  if (!per_second && t.find('/') != std::string_view::npos) fail(text, Kind::typed_rate, "only \"/s\" (per second) is accepted");
  const Quantity q = parse_quantity(number, text, Kind::typed_rate);
  if (!q.has_unit) fail(text, Kind::typed_rate, "a number needs a unit; for bytes per second write \"" + std::string(number) + "B/s\"");
  if (!per_second) fail(text, Kind::typed_rate, "a rate needs \"/s\", as in \"" + std::string(t) + "/s\"");
  return {q.value, std::string(q.unit)};
}

bool is_unit(std::string_view unit) {
  for (const Unit& u : kUnits) {
    if (u.name == unit) return true;
  }
  return false;
}

std::string format_size_in(std::uint64_t bytes, std::string_view unit_name) {
  const Unit* unit = nullptr;
  for (const Unit& u : kUnits) {
    if (u.name == unit_name) unit = &u;
  }
  if (unit == nullptr) return format_size(bytes);
  // Thousandths of the unit, rounded half up: bytes * divisor * 1000 / multiplier.
  U128 n{0, bytes};
  if (!mul_in_place(n, unit->divisor * 1000) || !add_in_place(n, U128{0, unit->multiplier / 2})) return format_size(bytes);
  U128 thousandths;
  divmod(n, unit->multiplier, thousandths);
  if (thousandths.hi != 0) return format_size(bytes);
  const std::uint64_t whole = thousandths.lo / 1000, rest = thousandths.lo % 1000;
  std::string out = std::to_string(whole);
  if (rest != 0) {
    std::string digits = std::to_string(rest);
    digits.insert(0, 3 - digits.size(), '0');
    while (digits.back() == '0') digits.pop_back();
    out += '.';
    out += digits;
  }
  out += ' ';
  out += unit->name;
  return out;
}

std::string format_rate_in(std::uint64_t bytes_per_second, std::string_view unit) {
  return format_size_in(bytes_per_second, unit) + "/s";
}

std::string format_size(std::uint64_t bytes) {
  static constexpr std::array<const char*, 5> kNames{"B", "KiB", "MiB", "GiB", "TiB"};
  std::size_t level = 0;
  while (level + 1 < kNames.size() && bytes >> (10 * (level + 1)) != 0) ++level;
  if (level == 0) return std::to_string(bytes) + " B";
  const int shift = static_cast<int>(10 * level);
  std::uint64_t whole = bytes >> shift;
  const std::uint64_t rest = bytes & ((std::uint64_t{1} << shift) - 1);
  // Thousandths, rounded half up; rest < 2^40 so rest * 1000 fits easily.
  std::uint64_t thousandths = (rest * 1000 + (std::uint64_t{1} << (shift - 1))) >> shift;
  if (thousandths == 1000) {
    if (whole == UINT64_MAX >> shift) {
      // Rounding up would write 2^64 bytes ("16777216 TiB"), which is not a size:
      // round down instead, so every formatted size parses back.
      thousandths = 999;
    } else {
      ++whole;
      thousandths = 0;
    }
  }
  if (whole == 1024 && level + 1 < kNames.size()) {
    whole = 1;
    ++level;
  }
  std::string out = std::to_string(whole);
  if (thousandths != 0) {
    std::string digits = std::to_string(thousandths);
    digits.insert(0, 3 - digits.size(), '0');
    while (digits.back() == '0') digits.pop_back();
    out += '.';
    out += digits;
  }
  out += ' ';
  out += kNames[level];
  return out;
}

std::string format_rate(std::uint64_t bytes_per_second) { return format_size(bytes_per_second) + "/s"; }

}  // namespace sluice::units
