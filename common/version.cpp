#include "common/version.h"

namespace sluice {

const char* version() { return SLUICE_VERSION; }

}  // namespace sluice
