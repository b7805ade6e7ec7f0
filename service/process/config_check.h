#pragma once

// sluiced --check-config: what a start would make of its configuration, found
// without starting (as `nginx -t` does). The command line and the file are parsed
// by parse_command_line, which reports every bad key and value; this checks what
// comes after them at a start: the state directory and the database in it.
//
// It never binds the control endpoint or the metrics listener, never takes the
// state directory's lock, creates nothing and writes nothing: it runs beside a
// sluiced that uses the same state directory, e.g. before `sluicectl service reload`.

#include <iosfwd>

#include "service/process/exit_code.h"
#include "service/process/options.h"

namespace sluice::service {

// Reports each finding on `out` ("sluiced: state directory ...: exists") and each
// problem on `err`. Returns ExitCode::ok ("configuration ok"), else the status a start
// would exit with: state_dir (exists but is no directory) or database (unreadable,
// not a database, a schema newer than this sluiced, a policy that does not load).
ExitCode check_configuration(const ServiceConfig& config, std::ostream& out, std::ostream& err);

}  // namespace sluice::service
