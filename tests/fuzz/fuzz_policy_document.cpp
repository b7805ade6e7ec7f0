// The policy document (service/policy/policy_document.h) as `sluicectl policy
// import` hands it to the service: any JSON text. Properties:
//  - reading refuses a bad document with DocumentError only (no other exception),
//    and accepts version 1 only;
//  - what is accepted re-encodes to a document that is accepted again and encodes
//    to the same JSON: export, import, export gives the same text;
//  - the re-read document holds the same rules, quotas and settings, field by field.

#include <cstddef>
#include <cstdint>
#include <string>

#include "service/policy/policy_document.h"
#include "tests/fuzz/fuzz_support.h"
#include "tests/fuzz/json_mutator.h"

namespace {

using sluice::fuzz::expect;
using namespace sluice::policy;

bool same_rule(const Rule& a, const Rule& b) {
  return a.enabled == b.enabled && a.comment == b.comment && a.app == b.app && a.user == b.user && a.protocol == b.protocol &&
         a.destinations == b.destinations && a.ports == b.ports && a.action == b.action && a.rate == b.rate;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const json value = json::parse(sluice::fuzz::as_text(data, size), nullptr, /*allow_exceptions=*/false);
  if (value.is_discarded()) return 0;

  PolicyDocument document;
  try {
    document = document_from_json(value);
  } catch (const DocumentError&) {
    return 0;
  }

  expect(value["sluice_policy"] == kDocumentVersion, "only version 1 documents are read", value.dump());
  const json encoded = document_to_json(document);
  PolicyDocument reread;
  try {
    reread = document_from_json(encoded);
  } catch (const DocumentError& e) {
    sluice::fuzz::property_failed("an accepted document re-encodes to one that is accepted",
                                  std::string(e.what()) + " in " + encoded.dump());
  }
  const std::string text = encoded.dump();
  expect(document_to_json(reread) == encoded, "export, import, export gives the same document", text);
  expect(reread.settings == document.settings, "settings survive the round trip", text);
  expect(reread.rules.size() == document.rules.size(), "every rule survives the round trip", text);
  for (std::size_t i = 0; i < document.rules.size(); ++i) {
    expect(same_rule(reread.rules[i], document.rules[i]), "each rule survives the round trip unchanged", text);
  }
  expect(reread.quotas == document.quotas, "every quota survives the round trip unchanged", text);
  return 0;
}

extern "C" std::size_t LLVMFuzzerCustomMutator(std::uint8_t* data, std::size_t size, std::size_t max_size, unsigned seed) {
  return sluice::fuzz::mutate_json(data, size, max_size, seed);
}
