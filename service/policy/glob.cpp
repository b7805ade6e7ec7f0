#include "service/policy/glob.h"

#include <cstddef>

namespace sluice::policy {

bool is_glob(std::string_view pattern) { return pattern.find_first_of("*?") != std::string_view::npos; }

std::string_view literal_prefix(std::string_view pattern) {
  return pattern.substr(0, pattern.find_first_of("*?"));
}

std::string_view literal_suffix(std::string_view pattern) {
  const std::size_t last = pattern.find_last_of("*?");
  return last == std::string_view::npos ? pattern : pattern.substr(last + 1);
}

// Greedy matching with two backtrack points, one for the last "*" and one for the
// last "**" (a "*" seen after a "**" is tried first).
//
// Why one point per kind is enough: reaching a "**" at the earliest possible text
// position leaves every later position open to it, so older points are never needed
// again once a "**" is passed. Between two "**" a "*" cannot cross a separator, so
// the usual single-star argument holds inside a path component; when the last "*"
// is stopped by a separator we restart the segment one character later through the
// "**". When it is stopped by the end of the text, every position the rest of the
// pattern could start from has already failed, and any later restart could only try
// those same positions again, so the match fails outright. Each text position is
// thus revisited a bounded number of times per pattern position: O(|pattern| x
// |text|) in the worst case, linear for ordinary paths.
bool glob_match(std::string_view pattern, std::string_view text, bool case_insensitive) {
  constexpr std::size_t npos = std::string_view::npos;
  std::size_t p = 0, t = 0;
  std::size_t star_p = npos, star_t = 0;    // pattern index after the last "*", where it ends
  std::size_t dstar_p = npos, dstar_t = 0;  // same for the last "**"
  const std::size_t pn = pattern.size(), tn = text.size();
  while (true) {
    if (p < pn) {
      const char c = pattern[p];
      if (c == '*') {
        if (p + 1 < pn && pattern[p + 1] == '*') {
          while (p < pn && pattern[p] == '*') ++p;
          dstar_p = p;
          dstar_t = t;
          star_p = npos;
        } else {
          ++p;
          star_p = p;
          star_t = t;
        }
        continue;
      }
      if (t < tn) {
        const char x = text[t];
        const bool same = c == '?' ? !is_path_separator(x)
                                   : (c == x || (case_insensitive && fold_ascii(c) == fold_ascii(x)));
        if (same) {
          ++p;
          ++t;
          continue;
        }
      }
    } else if (t == tn) {
      return true;
    }
    // Mismatch: let the last "*" take one more character, else the last "**".
    if (star_p != npos) {
      if (star_t < tn && !is_path_separator(text[star_t])) {
        ++star_t;
        p = star_p;
        t = star_t;
        continue;
      }
      if (star_t == tn) return false;
    }
    if (dstar_p != npos && dstar_t < tn) {
      ++dstar_t;
      p = dstar_p;
      t = dstar_t;
      star_p = npos;
      continue;
    }
    return false;
  }
}

}  // namespace sluice::policy
