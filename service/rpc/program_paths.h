#pragma once

// Program paths as the kernel reports them. A flow carries the real path of its
// executable (/proc/PID/exe on Linux, the module path on Windows), so a rule or quota
// written for "/bin/curl" (/bin a symbolic link) or "/usr/bin/python3" (a link to
// python3.11) would never match. Every path a rule or quota names is resolved once,
// when it is written (rule.add, rule.edit, quota.set, policy.import), and the
// resolved one is stored; policy.check resolves the same way before deciding.
//
//   - a program's path: every link resolved (platform::look_up_path);
//   - a glob: its longest literal directory ("/bin/**" -> "/usr/bin/**"); a glob that
//     starts with a wildcard ("**", "**/curl") is kept as it is;
//   - a program not there yet: its directory resolved, the name kept, and a warning.
// Refused, with the reason: whitespace at either end or a control character, a
// relative path, a path of the other platform's form (C:\... on Linux, /usr/... on
// Windows), a directory given as a program, a glob whose directory is a file.

#include <string>
#include <vector>

namespace sluice::service {

struct ResolvedProgram {
  std::string app;                    // what is stored and matched
  std::string typed;                  // as given
  std::vector<std::string> warnings;  // what the administrator may want to check
  bool changed() const { return app != typed; }
};

// Throws policy::DocumentError(where, reason) for a path that can never name a program
// on this platform. `where` is the field's place ("rule.app", "quotas[2].app").
ResolvedProgram resolve_program(const std::string& typed, const std::string& where);

// resolve_program for a question rather than a change (policy.check): the resolved path
// when there is one, else the path as given.
std::string resolve_program_leniently(const std::string& typed);

// The note a rule's comment gets when its path was resolved ("typed /bin/curl"), and the
// comment with it: an earlier note of this form is replaced, so an edit does not pile them up.
std::string typed_path_note(const std::string& typed);
std::string comment_with_typed_path(const std::string& comment, const std::string& typed);

}  // namespace sluice::service
