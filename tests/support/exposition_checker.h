#pragma once

// Checks text against the Prometheus text exposition format 0.0.4, line by line, so
// tests can tell that what sluicectl prints and /metrics serves is something a
// Prometheus server will ingest. Written from the format's description
// (https://prometheus.io/docs/instrumenting/exposition_formats/), not from a parser.

#include <string>
#include <vector>

namespace sluice::test {

// Every problem found, each naming its line ("line 3: ..."); empty when valid.
// Checked: the text ends with a line feed; HELP lines (name, and only \\ and \n
// escapes in the text); TYPE lines (name, a known type, at most one per family and
// before its samples); samples (metric and label names, label values with only
// \\, \" and \n escapes, no label twice, a float value, an optional integer
// timestamp); each family's lines together; no series twice.
std::vector<std::string> exposition_problems(const std::string& text);

}  // namespace sluice::test
