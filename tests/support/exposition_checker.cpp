#include "tests/support/exposition_checker.h"

#include <cerrno>
#include <cstdlib>
#include <map>
#include <set>
#include <string_view>

namespace sluice::test {
namespace {

bool name_start(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_'; }
bool name_char(char c) { return name_start(c) || (c >= '0' && c <= '9'); }

// [a-zA-Z_:][a-zA-Z0-9_:]* for metric names, [a-zA-Z_][a-zA-Z0-9_]* for label names.
std::size_t scan_name(std::string_view s, std::size_t at, bool colons) {
  std::size_t i = at;
  if (i < s.size() && (name_start(s[i]) || (colons && s[i] == ':'))) {
    ++i;
    while (i < s.size() && (name_char(s[i]) || (colons && s[i] == ':'))) ++i;
  }
  return i;
}

bool valid_float(const std::string& s) {
  if (s == "NaN" || s == "+Inf" || s == "-Inf" || s == "Inf") return true;
  if (s.empty()) return false;
  char* end = nullptr;
  errno = 0;
  std::strtod(s.c_str(), &end);
  // strtod also takes hex, "inf" and "nan" spellings the format does not.
  return end == s.c_str() + s.size() && s.find_first_of("xXnN") == std::string::npos;
}

bool valid_timestamp(const std::string& s) {
  std::size_t i = (!s.empty() && s[0] == '-') ? 1 : 0;
  if (i == s.size()) return false;
  for (; i < s.size(); ++i) {
    if (s[i] < '0' || s[i] > '9') return false;
  }
  return true;
}

class Checker {
 public:
  void line(std::size_t number, std::string_view text) {
    number_ = number;
    if (text.empty()) return;  // blank lines are ignored by the format
    if (text[0] == '#') {
      comment(text);
    } else {
      sample(text);
    }
  }

  std::vector<std::string> problems;

 private:
  void problem(const std::string& what) { problems.push_back("line " + std::to_string(number_) + ": " + what); }

  // "# HELP name text", "# TYPE name type"; any other comment is free text.
  void comment(std::string_view text) {
    const bool help = text.rfind("# HELP ", 0) == 0;
    const bool type = text.rfind("# TYPE ", 0) == 0;
    if (!help && !type) return;
    std::string_view rest = text.substr(7);
    const std::size_t name_end = scan_name(rest, 0, true);
    const std::string name(rest.substr(0, name_end));
    if (name.empty()) return problem("no metric name after # HELP/# TYPE");
    if (name_end < rest.size() && rest[name_end] != ' ') return problem("bad character in metric name '" + std::string(rest) + "'");
    std::string_view tail = name_end < rest.size() ? rest.substr(name_end + 1) : std::string_view();
    if (help) {
      if (!helped_.insert(name).second) problem("second HELP for " + name);
      for (std::size_t i = 0; i < tail.size(); ++i) {
        if (tail[i] != '\\') continue;
        if (i + 1 == tail.size() || (tail[i + 1] != '\\' && tail[i + 1] != 'n')) return problem("bad escape in HELP of " + name);
        ++i;
      }
      enter_family(name);
      return;
    }
    static const std::set<std::string_view> kTypes{"counter", "gauge", "histogram", "summary", "untyped"};
    if (!kTypes.count(tail)) return problem("unknown type '" + std::string(tail) + "' for " + name);
    if (types_.count(name)) return problem("second TYPE for " + name);
    if (sampled_.count(name)) return problem("TYPE for " + name + " after its samples");
    types_[name] = std::string(tail);
    enter_family(name);
  }

  void sample(std::string_view text) {
    std::size_t i = scan_name(text, 0, true);
    const std::string name(text.substr(0, i));
    if (name.empty()) return problem("a sample must start with a metric name: '" + std::string(text) + "'");
    std::string series = name;
    if (i < text.size() && text[i] == '{') {
      std::set<std::string> label_names;
      ++i;
      while (i < text.size() && text[i] != '}') {
        const std::size_t label_end = scan_name(text, i, false);
        const std::string label(text.substr(i, label_end - i));
        if (label.empty()) return problem("bad label name in '" + std::string(text) + "'");
        if (!label_names.insert(label).second) return problem("label " + label + " twice in one sample");
        i = label_end;
        if (text.substr(i, 2) != "=\"") return problem("label " + label + " without =\"value\"");
        i += 2;
        for (;;) {
          if (i >= text.size()) return problem("unterminated value of label " + label);
          if (text[i] == '"') break;
          if (text[i] == '\\') {
            if (i + 1 >= text.size() || (text[i + 1] != '\\' && text[i + 1] != '"' && text[i + 1] != 'n')) {
              return problem("bad escape in value of label " + label);
            }
            ++i;
          }
          ++i;
        }
        ++i;  // the closing quote
        if (i < text.size() && text[i] == ',') ++i;
        else if (i < text.size() && text[i] != '}') return problem("expected , or } after label " + label);
      }
      if (i >= text.size()) return problem("unterminated label set in '" + std::string(text) + "'");
      ++i;  // the closing brace
      series += std::string(text.substr(name.size(), i - name.size()));
    }
    if (i >= text.size() || text[i] != ' ') return problem("no value after " + series);
    std::string_view rest = text.substr(i + 1);
    const std::size_t space = rest.find(' ');
    const std::string value(rest.substr(0, space));
    if (!valid_float(value)) return problem("value '" + value + "' of " + series + " is not a float");
    if (space != std::string_view::npos && !valid_timestamp(std::string(rest.substr(space + 1)))) {
      return problem("bad timestamp after " + series);
    }
    if (!series_.insert(series).second) problem("series " + series + " twice");
    sampled_.insert(name);
    enter_family(family_of(name));
  }

  // Histograms and summaries own the _bucket, _sum and _count series of their name.
  std::string family_of(const std::string& name) const {
    for (std::string_view suffix : {"_bucket", "_sum", "_count"}) {
      if (name.size() <= suffix.size() || name.compare(name.size() - suffix.size(), suffix.size(), suffix) != 0) continue;
      const std::string base = name.substr(0, name.size() - suffix.size());
      auto it = types_.find(base);
      if (it != types_.end() && (it->second == "histogram" || it->second == "summary")) return base;
    }
    return name;
  }

  void enter_family(const std::string& family) {
    if (family == current_) return;
    if (finished_.count(family)) problem("lines of " + family + " are not together");
    if (!current_.empty()) finished_.insert(current_);
    current_ = family;
  }

  std::size_t number_ = 0;
  std::string current_;
  std::set<std::string> finished_, helped_, sampled_, series_;
  std::map<std::string, std::string> types_;
};

}  // namespace

std::vector<std::string> exposition_problems(const std::string& text) {
  Checker checker;
  if (!text.empty() && text.back() != '\n') checker.problems.push_back("the text does not end with a line feed");
  std::size_t start = 0, number = 1;
  while (start < text.size()) {
    std::size_t end = text.find('\n', start);
    if (end == std::string::npos) end = text.size();
    checker.line(number++, std::string_view(text).substr(start, end - start));
    start = end + 1;
  }
  return checker.problems;
}

}  // namespace sluice::test
