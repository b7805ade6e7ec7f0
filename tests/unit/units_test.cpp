#include "common/units.h"

#include <gtest/gtest.h>

#include <cstdint>
#include <limits>
#include <random>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

namespace sluice::units {
namespace {

constexpr std::uint64_t kMax = std::numeric_limits<std::uint64_t>::max();
constexpr const char* kSizeUnits =
    "(use a number with B, kB, MB, GB, TB, KiB, MiB, GiB, TiB, bit, kbit, Mbit or Gbit)";

std::string size_error(const std::string& text) {
  try {
    parse_size(text);
  } catch (const UnitError& e) {
    return e.what();
  }
  ADD_FAILURE() << "parse_size accepted '" << text << "'";
  return {};
}

std::string rate_error(const std::string& text) {
  try {
    parse_rate(text);
  } catch (const UnitError& e) {
    return e.what();
  }
  ADD_FAILURE() << "parse_rate accepted '" << text << "'";
  return {};
}

TEST(UnitsTest, ParsesSizes) {
  const std::vector<std::pair<std::string, std::uint64_t>> cases = {
      {"0", 0},
      {"4096", 4096},
      {"4096B", 4096},
      {"4096 B", 4096},
      {"1B", 1},
      {"1kB", 1000},
      {"1KB", 1000},
      {"2 kB", 2000},
      {"1MB", 1000000},
      {"10GB", 10000000000ull},
      {"10 GB", 10000000000ull},
      {"10\tGB", 10000000000ull},
      {"3TB", 3000000000000ull},
      {"1KiB", 1024},
      {"1MiB", 1048576},
      {"1.5MiB", 1572864},
      {"1.5 MiB", 1572864},
      {"2GiB", 2147483648ull},
      {"1TiB", 1099511627776ull},
      {"0.5TiB", 549755813888ull},
      {"800kbit", 100000},
      {"8bit", 1},
      {"1bit", 0},        // 0.125 B rounds to 0
      {"4bit", 1},        // 0.5 B rounds half up
      {"12bit", 2},       // 1.5 B
      {"11bit", 1},       // 1.375 B
      {"1Mbit", 125000},
      {"1Gbit", 125000000},
      {"2.5Gbit", 312500000},
      {"1.5", 2},
      {"1.4", 1},
      {"0.5", 1},
      {"2.5", 3},
      {"0.49", 0},
      {"007", 7},
      {"1.000", 1},
      {"0.001KB", 1},
      {"0.0005kB", 1},
      {"0.0004kB", 0},
      {"1.2345678MB", 1234568},
      {"1.000000000000000000001", 1},  // digits beyond 1e-18 are ignored
      {"  7 KiB  ", 7168},
      {"18446744073709551615", kMax},
      {"18446744073709551615B", kMax},
      {"18446744073709551615.4", kMax},
      {"16777215.999999999999TiB", kMax},  // 2^64 - 1.0995 B
      {"147573952589676412920bit", kMax},  // an integer part above 2^64
      {"18446744073709551.615kB", kMax},
  };
  for (const auto& [text, expected] : cases) {
    EXPECT_EQ(parse_size(text), expected) << "'" << text << "'";
  }
}

TEST(UnitsTest, RejectsBadSizesNamingTheValueAndTheUnits) {
  const std::vector<std::string> cases = {
      "",         " ",          "-1",       "-1kB",      "+1",        "abc",        "12qb",     "1.",
      ".5",       "1..5",       "1.2.3",    "1 2",       "1kB extra", "1kBs",       "kB",       "1 k",
      "1k",       "1K",         "1 KB B",   "1KiBs",     "0x10",      "1,000",      "1_000",    "1e3",
      "1E3",      "1\n",        "1 MB/s",   "1/s",       "MB1",       "1M",         "1G",       "1 bits",
      "1kbits",   "1Tbit",      "1 Bytes",  "1byte",     "inf",       "nan",        "1.5.MB",   "1 .5MB",
      "1. 5MB",   "1 B 2",      "\xef\xbc\x91", "1mB",   "1KIB",      "1kib",       "1Kbit",    "1MBIT",
      "1b",       "1kb",        "1Kb",      "1mb",       "1Mb",       "1gb",        "1Gb",      "1tb",
      "1Tb",      "18446744073709551616",   "18446744073709551615.5", "20000000TiB", "147573952589676412924bit",
      "99999999999999999999999999999999999999999999999999",
  };
  for (const std::string& text : cases) {
    const std::string message = size_error(text);
    EXPECT_NE(message.find("'" + text + "' is not a size"), std::string::npos) << message;
    EXPECT_NE(message.find(kSizeUnits), std::string::npos) << message;
  }
}

TEST(UnitsTest, ErrorMessagesExplainWhy) {
  EXPECT_EQ(size_error("12qb"),
            "'12qb' is not a size (use a number with B, kB, MB, GB, TB, KiB, MiB, GiB, TiB, bit, kbit, Mbit or "
            "Gbit)");
  for (const char* text : {"10kb", "10Kb"}) {
    EXPECT_NE(size_error(text).find("kB (bytes) or kbit (bits)"), std::string::npos) << text;
  }
  for (const char* text : {"10mb", "10Mb"}) {
    EXPECT_NE(size_error(text).find("MB (bytes) or Mbit (bits)"), std::string::npos) << text;
  }
  for (const char* text : {"10gb", "10Gb"}) {
    EXPECT_NE(size_error(text).find("GB (bytes) or Gbit (bits)"), std::string::npos) << text;
  }
  EXPECT_NE(size_error("10Tb").find("TB (bytes)"), std::string::npos);
  EXPECT_NE(size_error("10b").find("B (bytes) or bit (bits)"), std::string::npos);
  EXPECT_NE(size_error("10mib").find("as MiB"), std::string::npos);
  EXPECT_NE(size_error("10Kbit").find("as kbit"), std::string::npos);
  EXPECT_NE(size_error("-5").find("negative"), std::string::npos);
  EXPECT_NE(size_error("18446744073709551616").find("too large"), std::string::npos);
}

TEST(UnitsTest, UnitErrorIsAnInvalidArgument) {
  EXPECT_THROW(parse_size("x"), std::invalid_argument);
  EXPECT_THROW(parse_rate("x"), std::invalid_argument);
}

TEST(UnitsTest, ParsesRates) {
  const std::vector<std::pair<std::string, std::uint64_t>> cases = {
      {"0", 0},
      {"100", 100},
      {"100/s", 100},
      {"100B/s", 100},
      {"1MB/s", 1000000},
      {"1 MB/s", 1000000},
      {"1 MB /s", 1000000},
      {"1.5MiB/s", 1572864},
      {"800kbit/s", 100000},
      {"1Gbit/s", 125000000},
      {"2.5 kB/s", 2500},
      {" 10KiB/s ", 10240},
      {"18446744073709551615/s", kMax},
  };
  for (const auto& [text, expected] : cases) {
    EXPECT_EQ(parse_rate(text), expected) << "'" << text << "'";
  }
}

TEST(UnitsTest, RejectsBadRates) {
  const std::vector<std::string> cases = {
      "",        "/s",      " /s",       "1MiB",    "1 kB",   "1MB/h",     "1MB/sec", "1MB/s/s", "1MB/ s",
      "-1MB/s",  "1mb/s",   "1kbps",     "1Mbps",   "x/s",    "1s",        "1/S",     "1 MB/S",  "1/s ",
      "1.5/ss",  "1qb/s",   "18446744073709551616/s",
  };
  for (const std::string& text : cases) {
    if (text == "1/s ") {
      EXPECT_EQ(parse_rate(text), 1u);  // trailing blanks are fine
      continue;
    }
    const std::string message = rate_error(text);
    EXPECT_NE(message.find("'" + text + "' is not a rate"), std::string::npos) << message;
    EXPECT_NE(message.find("use a number with B/s"), std::string::npos) << message;
  }
  EXPECT_NE(rate_error("1MiB").find("a rate needs \"/s\""), std::string::npos);
  EXPECT_NE(rate_error("1MiB").find("1MiB/s"), std::string::npos);
  EXPECT_NE(rate_error("1mb/s").find("MB (bytes) or Mbit (bits)"), std::string::npos);
}

TEST(UnitsTest, FormatsSizes) {
  const std::vector<std::pair<std::uint64_t, std::string>> cases = {
      {0, "0 B"},
      {1, "1 B"},
      {1023, "1023 B"},
      {1024, "1 KiB"},
      {1025, "1.001 KiB"},
      {1100, "1.074 KiB"},
      {1536, "1.5 KiB"},
      {1048575, "1023.999 KiB"},
      {1048576, "1 MiB"},
      {1572864, "1.5 MiB"},
      {(1ull << 30) - 1, "1 GiB"},  // 1023.999999 MiB rounds up to the next unit
      {(1ull << 30) + (1ull << 29), "1.5 GiB"},
      {1ull << 40, "1 TiB"},
      {1ull << 50, "1024 TiB"},
      {10000000000ull, "9.313 GiB"},
      {kMax, "16777215.999 TiB"},  // not "16777216 TiB": 2^64 bytes would not parse back
  };
  for (const auto& [bytes, expected] : cases) {
    EXPECT_EQ(format_size(bytes), expected) << bytes;
  }
  EXPECT_EQ(format_rate(0), "0 B/s");
  EXPECT_EQ(format_rate(1536), "1.5 KiB/s");
  EXPECT_EQ(format_rate(1048576), "1 MiB/s");
}

TEST(UnitsTest, FormatThenParseRoundTripsWithinRounding) {
  std::mt19937_64 random(20240611);
  std::vector<std::uint64_t> values = {0, 1, 2, 1023, 1024, 1025, 1535, 1536, 999999, 1048575, 1048576};
  for (int shift = 0; shift < 63; ++shift) {
    values.push_back(1ull << shift);
    values.push_back((1ull << shift) - 1);
    values.push_back((1ull << shift) + 1);
  }
  for (int i = 0; i < 20000; ++i) {
    const int bits = static_cast<int>(random() % 64) + 1;
    values.push_back(random() >> (64 - bits));
  }
  // The largest sizes: the top thousandth of a TiB below 2^64 (found by fuzz_units).
  for (std::uint64_t below = 0; below < 2000; below += 7) values.push_back(kMax - below * 1000000);
  values.push_back(kMax);
  for (const std::uint64_t value : values) {
    const std::uint64_t size = parse_size(format_size(value));
    const std::uint64_t rate = parse_rate(format_rate(value));
    const std::uint64_t tolerance = value < 1024 ? 0 : value / 2000 + 1;  // half a thousandth of a unit
    const std::uint64_t error = size > value ? size - value : value - size;
    EXPECT_LE(error, tolerance) << value << " -> " << format_size(value);
    EXPECT_EQ(rate, size) << value;
  }
}

TEST(UnitsTest, ParseThenFormatIsStableForCanonicalText) {
  for (const char* text : {"0 B", "1 B", "1023 B", "1 KiB", "1.5 KiB", "1.074 KiB", "1 MiB", "2.25 GiB", "3 TiB"}) {
    EXPECT_EQ(format_size(parse_size(text)), text);
  }
}

// What an administrator wrote comes back in the same unit, whichever family.
TEST(UnitsTest, TypedAmountsKeepTheirUnitAndShowInIt) {
  struct Case {
    const char* typed;
    bool rate;
    std::uint64_t value;
    const char* unit;
    const char* shown;
  };
  const std::vector<Case> cases = {
      {"10GB", false, 10'000'000'000ull, "GB", "10 GB"},
      {"1.5 MiB", false, 1'572'864, "MiB", "1.5 MiB"},
      {"4096B", false, 4096, "B", "4096 B"},
      {"1.3MiB", false, 1'363'149, "MiB", "1.3 MiB"},  // rounded to a byte, shown to a thousandth
      {"1MB/s", true, 1'000'000, "MB", "1 MB/s"},
      {"800kbit/s", true, 100'000, "kbit", "800 kbit/s"},
      {" 2.25 GiB/s ", true, 2'415'919'104ull, "GiB", "2.25 GiB/s"},
  };
  for (const auto& c : cases) {
    const TypedAmount a = c.rate ? parse_rate_as_typed(c.typed) : parse_size_as_typed(c.typed);
    EXPECT_EQ(a.value, c.value) << c.typed;
    EXPECT_EQ(a.unit, c.unit) << c.typed;
    EXPECT_EQ(c.rate ? format_rate_in(a.value, a.unit) : format_size_in(a.value, a.unit), c.shown) << c.typed;
  }
  // No unit known: binary units, as format_size.
  EXPECT_EQ(format_size_in(10'000'000'000ull, ""), format_size(10'000'000'000ull));
  EXPECT_EQ(format_size_in(1024, "parsec"), "1 KiB");
  EXPECT_EQ(format_size_in(kMax, "bit"), format_size(kMax));  // too many bits for a figure: binary
}

TEST(UnitsTest, TypedAmountsRefuseABareNumberListingTheUnits) {
  for (const char* text : {"4096", " 12 ", "1.5", "0"}) {
    try {
      parse_size_as_typed(text);
      ADD_FAILURE() << "accepted '" << text << "'";
    } catch (const UnitError& e) {
      const std::string message = e.what();
      EXPECT_NE(message.find("needs a unit"), std::string::npos) << message;
      EXPECT_NE(message.find("GiB"), std::string::npos) << message;
    }
    try {
      parse_rate_as_typed(text);
      ADD_FAILURE() << "accepted '" << text << "' as a rate";
    } catch (const UnitError& e) {
      const std::string message = e.what();
      EXPECT_NE(message.find("B/s"), std::string::npos) << message;
      EXPECT_EQ(message.find("bare number"), std::string::npos) << "a bare number is not accepted here: " << message;
    }
  }
  EXPECT_THROW(parse_rate_as_typed("1MB"), UnitError);    // a size, not a rate
  EXPECT_THROW(parse_rate_as_typed("1MB/h"), UnitError);  // per second only
  EXPECT_THROW(parse_size_as_typed("1MB/s"), UnitError);
}

}  // namespace
}  // namespace sluice::units
