#include "service/rpc/program_paths.h"

#include <cctype>

#include "common/platform/platform.h"
#include "service/policy/glob.h"
#include "service/policy/policy_document.h"

namespace sluice::service {
namespace {

using platform::PathLookup;

bool is_space(char c) { return std::isspace(static_cast<unsigned char>(c)) != 0; }

// The two absolute forms, told apart by their text alone: which platform can run it.
bool windows_form(const std::string& path) {
  if (path.size() >= 2 && path[0] == '\\' && path[1] == '\\') return true;
  return path.size() >= 3 && std::isalpha(static_cast<unsigned char>(path[0])) && path[1] == ':' && policy::is_path_separator(path[2]);
}
bool posix_form(const std::string& path) { return path.starts_with("/") && !windows_form(path); }

std::string in_quotes(const std::string& path) { return "'" + path + "'"; }

void check_text(const std::string& typed, const std::string& where) {
  if (typed.empty()) return;  // policy_document refuses it, with its own message
  if (is_space(typed.front()) || is_space(typed.back())) {
    throw policy::DocumentError(where, in_quotes(typed) + " begins or ends with whitespace, which is never part of a program's path "
                                       "as the system reports it; remove it");
  }
  for (char c : typed) {
    if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) {
      throw policy::DocumentError(where, in_quotes(typed) + " holds a control character; give the program's path as it is on disk");
    }
  }
}

// A path (or a glob's directory) must be absolute in this platform's form.
void check_form(const std::string& typed, const std::string& shown, const std::string& where) {
  if (platform::is_native_absolute_path(typed)) return;
  const std::string example = std::string(" (like ") + platform::example_program_path() + ")";
  if (windows_form(typed)) {
    throw policy::DocumentError(where, in_quotes(shown) + " is a Windows path; on " + platform::name() +
                                           " programs are named by their full POSIX path" + example);
  }
  if (posix_form(typed)) {
    throw policy::DocumentError(where, in_quotes(shown) + " is a POSIX path; on " + platform::name() +
                                           " programs are named by their full path with a drive letter" + example);
  }
  throw policy::DocumentError(where, in_quotes(shown) + " is a relative path; give the program's full path" + example +
                                         ", or a glob such as **/" + shown);
}

// "/usr/bin/" -> "/usr/bin"; the root ("/", "C:\") stays as it is.
std::string without_trailing_separator(const std::string& dir) {
  if (dir.size() <= 1 || !policy::is_path_separator(dir.back())) return dir;
  if (dir.size() == 3 && dir[1] == ':') return dir;
  return dir.substr(0, dir.size() - 1);
}

std::string with_separator(const std::string& dir, char separator) {
  return !dir.empty() && policy::is_path_separator(dir.back()) ? dir : dir + separator;
}

ResolvedProgram resolve_glob(ResolvedProgram out, const std::string& where) {
  const std::string& typed = out.typed;
  const std::string prefix(policy::literal_prefix(typed));
  const auto last = prefix.find_last_of("/\\");
  // "**", "**/curl", "*.exe": no literal directory to resolve, and such a pattern may
  // match absolute paths of any form.
  if (last == std::string::npos) return out;
  const std::string dir_part = prefix.substr(0, last + 1);  // with its separator
  const std::string rest = typed.substr(last + 1);
  check_form(dir_part, typed, where);
  const std::string dir = without_trailing_separator(dir_part);
  const PathLookup found = platform::look_up_path(dir);
  switch (found.kind) {
    case PathLookup::Kind::directory:
      out.app = with_separator(found.real_path, dir_part.back()) + rest;
      break;
    case PathLookup::Kind::file:
      throw policy::DocumentError(where, in_quotes(dir) + " in " + in_quotes(typed) + " is a file, not a directory");
    case PathLookup::Kind::missing:
      out.warnings.push_back("there is no directory " + in_quotes(dir) + ": " + in_quotes(typed) +
                             " matches no program until it exists (check the path)");
      break;
    case PathLookup::Kind::unreadable:
      out.warnings.push_back("cannot resolve " + in_quotes(dir) + " (" + found.error + "): " + in_quotes(typed) +
                             " is kept as typed and matches only if no link is on that path");
      break;
  }
  return out;
}

ResolvedProgram resolve_path(ResolvedProgram out, const std::string& where) {
  const std::string& typed = out.typed;
  check_form(typed, typed, where);
  const PathLookup found = platform::look_up_path(typed);
  switch (found.kind) {
    case PathLookup::Kind::file:
      out.app = found.real_path;
      return out;
    case PathLookup::Kind::directory:
      throw policy::DocumentError(where, in_quotes(typed) + " is a directory, not a program; give the program's file, or " +
                                             with_separator(typed, typed.find('\\') != std::string::npos ? '\\' : '/') +
                                             "** for every program under it");
    case PathLookup::Kind::unreadable:
      out.warnings.push_back("cannot resolve " + in_quotes(typed) + " (" + found.error +
                             "): it is kept as typed and matches only if no link is on that path");
      return out;
    case PathLookup::Kind::missing:
      break;
  }
  // Not installed (yet): resolve its directory, so it matches once it is there.
  const auto last = typed.find_last_of("/\\");
  const std::string dir = without_trailing_separator(typed.substr(0, last + 1));
  const PathLookup parent = platform::look_up_path(dir);
  if (parent.kind == PathLookup::Kind::directory) {
    out.app = with_separator(parent.real_path, typed[last]) + typed.substr(last + 1);
  } else if (parent.kind == PathLookup::Kind::file) {
    throw policy::DocumentError(where, in_quotes(dir) + " in " + in_quotes(typed) + " is a file, not a directory");
  }
  out.warnings.push_back("there is no program at " + in_quotes(typed) + ": this matches it only once it is installed at " +
                         in_quotes(out.app) + " (check the path)");
  return out;
}

constexpr const char* kNoteStart = "[typed ";

}  // namespace

ResolvedProgram resolve_program(const std::string& typed, const std::string& where) {
  check_text(typed, where);
  ResolvedProgram out{typed, typed, {}};
  if (typed.empty()) return out;
  return policy::is_glob(typed) ? resolve_glob(std::move(out), where) : resolve_path(std::move(out), where);
}

std::string resolve_program_leniently(const std::string& typed) {
  try {
    return resolve_program(typed, "").app;
  } catch (const policy::DocumentError&) {
    return typed;
  }
}

std::string typed_path_note(const std::string& typed) { return kNoteStart + typed + "]"; }

std::string comment_with_typed_path(const std::string& comment, const std::string& typed) {
  std::string kept = comment;
  if (const auto start = kept.rfind(kNoteStart); start != std::string::npos && kept.ends_with("]")) {
    kept.erase(start);
    while (!kept.empty() && kept.back() == ' ') kept.pop_back();
  }
  if (typed.empty()) return kept;
  return kept.empty() ? typed_path_note(typed) : kept + " " + typed_path_note(typed);
}

}  // namespace sluice::service
