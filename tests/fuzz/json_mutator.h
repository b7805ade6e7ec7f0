#pragma once

// A JSON-aware mutation for the fuzz targets whose input is JSON. libFuzzer's own
// mutations work on bytes: they rarely turn "2.0" into 2 or a port into a list
// while keeping the text valid JSON, yet values of the wrong type are what a
// careless or hostile client sends. Half the time this leaves the mutation to
// libFuzzer; otherwise it parses the input and changes one value in the tree:
// replaces it with a value of another type or a boundary number, copies another
// part of the document over it, or removes it from its object or array.
//
// A target uses it by defining
//   extern "C" size_t LLVMFuzzerCustomMutator(uint8_t* d, size_t s, size_t m, unsigned seed) {
//     return sluice::fuzz::mutate_json(d, s, m, seed);
//   }

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <random>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

extern "C" size_t LLVMFuzzerMutate(uint8_t* data, size_t size, size_t max_size);

namespace sluice::fuzz {

namespace json_mutator_detail {

using json = nlohmann::json;

inline void collect(json& value, std::vector<json*>& nodes) {
  nodes.push_back(&value);
  if (value.is_structured()) {
    for (auto& child : value) collect(child, nodes);
  }
}

// Values of every JSON type, with the numbers where conversions go wrong.
inline json replacement(std::minstd_rand& random) {
  static const json kValues = json::parse(R"([
    null, true, false, 0, 1, -1, 2, 65535, 65536, 1.5, -0.0, 1e300,
    2147483648, 4294967297, 9223372036854775807, -9223372036854775808, 18446744073709551615,
    "", "2.0", "1", "-1", "x", "null", "true", "\u0000", "/usr/bin/curl", "**", "::1", "10.0.0.0/8", "1-65535",
    "1.5MiB/s", "2026-02-29", [], [1], [""], {}, {"up": 1}, {"major": 1, "minor": 0}
  ])");
  return kValues[random() % kValues.size()];
}

}  // namespace json_mutator_detail

inline std::size_t mutate_json(std::uint8_t* data, std::size_t size, std::size_t max_size, unsigned seed) {
  using namespace json_mutator_detail;
  std::minstd_rand random(seed);
  if (random() % 2 == 0) return LLVMFuzzerMutate(data, size, max_size);
  // The tree walk below recurses: a document deeper than the service accepts (the
  // deep-nesting seeds) is left to libFuzzer's byte mutations.
  struct TooDeep {};
  const auto bounded = [](int depth, json::parse_event_t, json&) {
    if (depth > 64) throw TooDeep{};
    return true;
  };
  json document;
  try {
    document = json::parse(data, data + size, bounded, /*allow_exceptions=*/false);
  } catch (const TooDeep&) {
    return LLVMFuzzerMutate(data, size, max_size);
  }
  if (document.is_discarded()) return LLVMFuzzerMutate(data, size, max_size);

  std::vector<json*> nodes;
  collect(document, nodes);
  json* target = nodes[random() % nodes.size()];
  switch (random() % 4) {
    case 0:
    case 1: *target = replacement(random); break;
    case 2: *target = json(*nodes[random() % nodes.size()]); break;  // a copy: a subtree may land inside itself
    case 3:
      if (target->is_object() && !target->empty()) {
        auto it = target->begin();
        std::advance(it, random() % target->size());
        target->erase(it);
      } else if (target->is_array() && !target->empty()) {
        target->erase(target->begin() + static_cast<std::ptrdiff_t>(random() % target->size()));
      } else {
        *target = replacement(random);
      }
      break;
  }
  const std::string text = document.dump(-1, ' ', false, json::error_handler_t::replace);
  if (text.size() > max_size) return LLVMFuzzerMutate(data, size, max_size);
  std::memcpy(data, text.data(), text.size());
  return text.size();
}

}  // namespace sluice::fuzz
