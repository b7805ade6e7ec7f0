// sluicectl provider on Windows: installing the Winsock LSP in the catalog comes with
// the LSP itself (provider/lsp, the Windows data plane). Until then the command says
// so and changes nothing.

#include "control/cli/command_support.h"

namespace sluice::cli {

int provider_command(const CliContext&, const std::vector<std::string>&) {
  throw CommandFailed("the Winsock LSP and its catalog installer are not part of this build yet; nothing was changed");
}

}  // namespace sluice::cli
