#include "service/policy/glob.h"

#include <gtest/gtest.h>

#include <random>
#include <string>
#include <tuple>
#include <vector>

namespace sluice::policy {
namespace {

// Straightforward dynamic programming over (pattern position, text position): the
// definition glob_match must agree with.
bool reference_match(const std::string& pattern, const std::string& text, bool ci) {
  const std::size_t pn = pattern.size(), tn = text.size();
  // ok[i][j]: pattern[i..] matches text[j..]
  std::vector<std::vector<char>> ok(pn + 1, std::vector<char>(tn + 1, 0));
  ok[pn][tn] = 1;
  for (std::size_t i = pn; i-- > 0;) {
    const char c = pattern[i];
    std::size_t run_end = i;
    while (run_end < pn && pattern[run_end] == '*') ++run_end;
    // A star inside a run is handled at the run's first star.
    const bool in_run = c == '*' && i > 0 && pattern[i - 1] == '*';
    for (std::size_t j = tn + 1; j-- > 0;) {
      bool v = false;
      if (c == '*' && !in_run && run_end - i >= 2) {
        v = ok[run_end][j] || (j < tn && ok[i][j + 1]);
      } else if (c == '*') {
        v = ok[i + 1][j] || (j < tn && !is_path_separator(text[j]) && ok[i][j + 1]);
      } else if (c == '?') {
        v = j < tn && !is_path_separator(text[j]) && ok[i + 1][j + 1];
      } else {
        v = j < tn && (ci ? fold_ascii(c) == fold_ascii(text[j]) : c == text[j]) && ok[i + 1][j + 1];
      }
      ok[i][j] = v ? 1 : 0;
    }
  }
  return ok[0][0] != 0;
}

TEST(GlobTest, RecognizesGlobs) {
  EXPECT_TRUE(is_glob("/usr/bin/*"));
  EXPECT_TRUE(is_glob("a?c"));
  EXPECT_TRUE(is_glob("**"));
  EXPECT_FALSE(is_glob("/usr/bin/curl"));
  EXPECT_FALSE(is_glob("C:\\Program Files\\app.exe"));
  EXPECT_FALSE(is_glob(""));
}

TEST(GlobTest, LiteralPrefixAndSuffix) {
  EXPECT_EQ(literal_prefix("/usr/lib/*/bin"), "/usr/lib/");
  EXPECT_EQ(literal_prefix("/usr/bin/curl"), "/usr/bin/curl");
  EXPECT_EQ(literal_prefix("*x"), "");
  EXPECT_EQ(literal_prefix("a?b*"), "a");
  EXPECT_EQ(literal_prefix(""), "");
  EXPECT_EQ(literal_suffix("**\\chrome.exe"), "\\chrome.exe");
  EXPECT_EQ(literal_suffix("/usr/*"), "");
  EXPECT_EQ(literal_suffix("a*b?cd"), "cd");
  EXPECT_EQ(literal_suffix("abc"), "abc");
}

TEST(GlobTest, MatchesPathsAsDocumented) {
  const std::vector<std::tuple<std::string, std::string, bool>> cases = {
      {"/usr/bin/*", "/usr/bin/curl", true},
      {"/usr/bin/*", "/usr/bin/", true},
      {"/usr/bin/*", "/usr/bin/x/curl", false},
      {"/usr/bin/*", "/usr/bin", false},
      {"/usr/**", "/usr/bin/x/curl", true},
      {"/usr/**", "/usr/", true},
      {"/usr/**", "/usr", false},
      {"**", "", true},
      {"**", "/any/thing/at/all", true},
      {"**", "C:\\Windows\\System32\\svchost.exe", true},
      {"***", "a/b/c", true},
      {"*", "", true},
      {"*", "abc", true},
      {"*", "a/b", false},
      {"*", "a\\b", false},
      {"?", "a", true},
      {"?", "/", false},
      {"?", "\\", false},
      {"?", "", false},
      {"?", "ab", false},
      {"a?c", "abc", true},
      {"a?c", "a/c", false},
      {"a*b*c", "aXbYc", true},
      {"a*b*c", "abc", true},
      {"a*b*c", "aXbY/c", false},
      {"a**c", "a/b/c", true},
      {"a*", "a", true},
      {"*a", "ba/a", false},
      {"**a", "ba/a", true},
      {"*/*", "a/b", true},
      {"*/*", "a/b/c", false},
      {"**/*", "a/b/c", true},
      {"/opt/*/bin/*", "/opt/app/bin/run", true},
      {"/opt/*/bin/*", "/opt/a/b/bin/run", false},
      {"/opt/**/bin/*", "/opt/a/b/bin/run", true},
      {"/opt/**/bin/*", "/opt/a/b/bin/x/run", false},
      {"/opt/**/bin/*", "/opt/bin/run", false},  // "**" is a run of characters, not "zero or more directories"
      {"/opt/**/bin/**", "/opt/x/bin/y/z", true},
      {"/home/*/.local/bin/*", "/home/alice/.local/bin/tool", true},
      {"/home/*/.local/bin/*", "/home/alice/x/.local/bin/tool", false},
      {"C:\\Program Files\\*\\app.exe", "C:\\Program Files\\Vendor\\app.exe", true},
      {"C:\\Program Files\\*\\app.exe", "C:\\Program Files\\Vendor\\sub\\app.exe", false},
      {"C:\\Program Files\\**\\app.exe", "C:\\Program Files\\Vendor\\sub\\app.exe", true},
      {"**\\chrome.exe", "C:\\x\\chrome.exe", true},
      {"**\\chrome.exe", "C:\\x\\chrome.exe.bak", false},
      {"*.exe", "notepad.exe", true},
      {"*.exe", "dir\\notepad.exe", false},
      {"/usr/bin/python3.?", "/usr/bin/python3.1", true},
      {"/usr/bin/python3.?", "/usr/bin/python3.11", false},
      {"/usr/bin/python3.*", "/usr/bin/python3.11", true},
      {"abc", "abc", true},
      {"abc", "abd", false},
      {"", "", true},
      {"", "a", false},
      {"a**", "a", true},
      {"**a**", "xx/a/yy", true},
      {"**a**", "xx/b/yy", false},
  };
  for (const auto& [pattern, text, expected] : cases) {
    EXPECT_EQ(glob_match(pattern, text, false), expected) << pattern << " vs " << text;
    EXPECT_EQ(reference_match(pattern, text, false), expected) << "reference: " << pattern << " vs " << text;
  }
}

TEST(GlobTest, CaseFoldingIsOptionalAndAsciiOnly) {
  EXPECT_TRUE(glob_match("C:\\Windows\\*.EXE", "c:\\windows\\notepad.exe", true));
  EXPECT_FALSE(glob_match("C:\\Windows\\*.EXE", "c:\\windows\\notepad.exe", false));
  EXPECT_TRUE(glob_match("/USR/**", "/usr/bin/x", true));
  EXPECT_FALSE(glob_match("/USR/**", "/usr/bin/x", false));
  EXPECT_TRUE(glob_match("ABC", "abc", true));
  EXPECT_TRUE(glob_match("a?C", "AbC", true));
  // Only ASCII letters fold: 'É' (C3 89) and 'é' (C3 A9) stay different.
  EXPECT_FALSE(glob_match("\xC3\x89*", "\xC3\xA9t\xC3\xA9", true));
  EXPECT_TRUE(glob_match("\xC3\xA9*", "\xC3\xA9t\xC3\xA9", true));
  // Characters around the letters must not fold into them: '@' vs '`', '[' vs '{'.
  EXPECT_FALSE(glob_match("@", "`", true));
  EXPECT_FALSE(glob_match("[", "{", true));
}

TEST(GlobTest, PathologicalPatternsFinishQuickly) {
  const std::string as(20000, 'a');
  EXPECT_FALSE(glob_match("*a*a*a*a*a*a*b", as, false));
  EXPECT_TRUE(glob_match("*a*a*a*a*a*a*", as, false));
  EXPECT_FALSE(glob_match("**a**a**a**a**a**a**b", as, false));
  EXPECT_FALSE(glob_match("**a*a*a*a*a*a*b", as, false));
  EXPECT_FALSE(glob_match("*?*?*?*?*?*?*?*?b", as, true));
  std::string components;
  for (int i = 0; i < 200; ++i) components += std::string(50, 'a') + "/";
  EXPECT_FALSE(glob_match("**a*a*a*a*a*a*b", components, false));
  EXPECT_FALSE(glob_match("**a*a*a*a*a*/*a*a*b", components, false));
  EXPECT_TRUE(glob_match("**a*a*a*a*a*/", components, false));
  EXPECT_FALSE(glob_match("**/*a*a*a*a*a*a/b", components, false));
}

// Random patterns and texts over a small alphabet, so separators, stars and
// near-misses meet often; glob_match must agree with the reference every time.
TEST(GlobTest, AgreesWithReferenceOnRandomInputs) {
  std::mt19937 random(424242);
  const std::string pattern_alphabet = "ab/*?A\\";
  const std::string text_alphabet = "abA/\\";
  int matches = 0;
  for (int i = 0; i < 300000; ++i) {
    std::string pattern, text;
    const std::size_t pattern_length = random() % 11;
    for (std::size_t k = 0; k < pattern_length; ++k) {
      const std::uint32_t pick = random() % 12;
      pattern += pick < 4 ? pattern_alphabet[random() % 2]  // mostly letters and stars
                 : pick < 8 ? '*'
                            : pattern_alphabet[random() % pattern_alphabet.size()];
    }
    const std::size_t text_length = random() % 14;
    for (std::size_t k = 0; k < text_length; ++k) {
      const std::uint32_t pick = random() % 8;
      text += pick < 6 ? text_alphabet[random() % 2] : text_alphabet[random() % text_alphabet.size()];
    }
    const bool ci = (i & 1) != 0;
    const bool expected = reference_match(pattern, text, ci);
    matches += expected ? 1 : 0;
    ASSERT_EQ(glob_match(pattern, text, ci), expected) << "'" << pattern << "' vs '" << text << "' ci=" << ci;
  }
  EXPECT_GT(matches, 10000);  // the generator produces plenty of both outcomes
  EXPECT_LT(matches, 290000);
}

}  // namespace
}  // namespace sluice::policy
