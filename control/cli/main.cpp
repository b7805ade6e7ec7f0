#include <iostream>

#include "control/cli/cli.h"

int main(int argc, char** argv) {
  return sluice::cli::run_cli(std::vector<std::string>(argv + 1, argv + argc), std::cout, std::cerr);
}
