#pragma once

// Globs over executable paths, as rules write them:
//   *    any run of characters without a path separator ('/' or '\\')
//   **   any run of characters, separators included (three or more '*' act as "**")
//   ?    exactly one character that is not a separator
// Everything else, '\\' included, is literal (there is no escape character: Windows
// paths use '\\' as a separator). "**" alone matches every path.

#include <string_view>

namespace sluice::policy {

// True when `pattern` contains '*' or '?'.
bool is_glob(std::string_view pattern);

// Whole-string match. `case_insensitive` folds ASCII letters only. Iterative and
// polynomial (no exponential backtracking on patterns such as "*a*a*a*a*b").
bool glob_match(std::string_view pattern, std::string_view text, bool case_insensitive);

// The literal text before the first wildcard ("/usr/lib/*/bin" -> "/usr/lib/"); the
// whole pattern when it has none. Every match of the pattern starts with it.
std::string_view literal_prefix(std::string_view pattern);

// The literal text after the last wildcard ("**\\chrome.exe" -> "\\chrome.exe"); the
// whole pattern when it has none. Every match of the pattern ends with it.
std::string_view literal_suffix(std::string_view pattern);

inline bool is_path_separator(char c) { return c == '/' || c == '\\'; }

inline char fold_ascii(char c) { return c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c; }

}  // namespace sluice::policy
