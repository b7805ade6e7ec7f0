#include "tests/support/temp_dir.h"

namespace sluice::test {

std::string unique_endpoint(const TempDir& dir) { return dir.file("control.sock"); }

}  // namespace sluice::test
