// Sizes and rates as administrators type them (common/units.h): the whole input is
// the text. Properties:
//  - parse_size and parse_rate refuse bad text with UnitError only;
//  - a size followed by "/s" is the same number as a rate;
//  - format_size(n) parses back to n, exactly below 1 KiB and within 0.05% (and a
//    rounded byte) above;
//    checked for every size parsed and for the input's first 8 bytes as a number.

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <optional>
#include <string>
#include <string_view>

#include "common/units.h"
#include "tests/fuzz/fuzz_support.h"

namespace {

using sluice::fuzz::expect;
using sluice::fuzz::quoted;
namespace units = sluice::units;

template <class Parse>
std::optional<std::uint64_t> attempt(Parse parse, std::string_view text) {
  try {
    return parse(text);
  } catch (const units::UnitError&) {
    return std::nullopt;
  }
}

void check_format_round_trip(std::uint64_t n) {
  const std::string text = units::format_size(n);
  const auto back = attempt(units::parse_size, text);
  expect(back.has_value(), "format_size writes a size parse_size reads", text);
  const std::uint64_t error = *back > n ? *back - n : n - *back;
  if (n < 1024) {
    expect(error == 0, "format_size is exact below 1 KiB", std::to_string(n) + " -> " + text);
  } else {
    // 0.05% of n, and the byte parse_size rounds to (units_test allows the same).
    expect(error <= n / 2000 + 1, "format_size is within 0.05%", std::to_string(n) + " -> " + text + " -> " + std::to_string(*back));
  }
  const auto rate = attempt(units::parse_rate, units::format_rate(n));
  expect(rate == back, "format_rate reads back as format_size does", units::format_rate(n));
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view text = sluice::fuzz::as_text(data, size);
  const auto size_value = attempt(units::parse_size, text);
  const auto rate_value = attempt(units::parse_rate, text);
  if (size_value) {
    const auto as_rate = attempt(units::parse_rate, std::string(text) + "/s");
    expect(as_rate == size_value, "a size followed by /s is the same number as a rate", quoted(text));
    check_format_round_trip(*size_value);
  }
  if (rate_value) check_format_round_trip(*rate_value);

  std::uint64_t n = 0;
  std::memcpy(&n, data, std::min(size, sizeof n));
  check_format_round_trip(n);
  return 0;
}
