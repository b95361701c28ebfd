#include "cli/show_command.h"

#include <ostream>

#include <spdlog/spdlog.h>

#include "apply/reconciler.h"
#include "cli/bindings_manifest.h"
#include "cli/exit_codes.h"
#include "cli/ownership_input.h"
#include "observe/observe.h"
#include "observe/pci_id_database.h"

namespace vfio::cli {

int run_show(const ShowOptions& options, const CommandEnv& env) {
  const LoadedRecord owned = read_ownership(env);
  // Every device, as a plan reads those it is about: drivers, overrides, groups, and which drivers
  // are vfio variants (modules.alias, read when a device is on one that may be).
  const Reconciler reconciler(env.sysfs, env.proc, env.modules);
  HostSnapshot host;
  try {
    host = reconciler.observe_whole_host();
  } catch (const ObserveError& e) {
    spdlog::error("{}", e.what());
    return kExitUnavailable;
  }
  const PciIdDatabase names;
  env.out << bindings_manifest(host, owned.record, names,
                               options.match_ids ? BindingsForm::ByIds : BindingsForm::ByAddress);
  return kExitOk;
}

}  // namespace vfio::cli
