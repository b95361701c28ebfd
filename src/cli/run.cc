#include "cli/run.h"

#include <iostream>
#include <string>

#include <CLI/CLI.hpp>

#include "cli/exit_codes.h"

namespace vfio::cli {

int run(int argc, const char* const* argv, const Context& context) {
  std::ostream& out = context.out ? *context.out : std::cout;
  std::ostream& err = context.err ? *context.err : std::cerr;

  CLI::App app{"vfio-reconcile: bind PCIe devices to vfio-pci from a declarative manifest",
               "vfio-reconcile"};
  app.set_version_flag("--version", std::string("vfio-reconcile ") + VFIO_RECONCILE_VERSION);
  app.require_subcommand(0, 1);

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    int code = app.exit(e, out, err);
    return code == 0 ? kExitOk : kExitUsage;
  }
  out << app.help();
  return kExitOk;
}

}  // namespace vfio::cli
