#pragma once

// sluicectl's exit statuses: the one place they are defined. Scripts branch on them,
// so each says one thing, the same with or without --json. The help's epilogue is
// printed from kExitStatuses, and the README's table is checked against it
// (tests/unit/cli_test.cpp).

#include <span>

namespace sluice::cli {

enum ExitStatus : int {
  kExitOk = 0,
  kExitFailure = 1,      // anything else: the service failed the request, a local file could not be written, ...
  kExitUsage = 2,        // the command line is wrong: an unknown option, a value of the wrong kind
  kExitUnreachable = 3,  // no sluiced answers at the endpoint (not running, wrong --control, or an impostor)
  kExitRefused = 4,      // the caller may not do this: changing the policy needs an administrator
  kExitNotFound = 5,     // what the command names does not exist: no rule with that id, no such quota
};

struct ExitStatusRow {
  ExitStatus status;
  const char* meaning;
};

inline constexpr ExitStatusRow kExitStatusTable[] = {
    {kExitOk, "success"},
    {kExitFailure, "failed for another reason (the message says which)"},
    {kExitUsage, "bad usage: an unknown option, a missing or malformed value"},
    {kExitUnreachable, "sluiced cannot be reached: it is not running, or --control names the wrong endpoint"},
    {kExitRefused, "refused: changing the policy needs an administrator"},
    {kExitNotFound, "not found: no rule with that id, no such quota"},
};

inline constexpr std::span<const ExitStatusRow> kExitStatuses{kExitStatusTable};

}  // namespace sluice::cli
