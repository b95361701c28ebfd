#include "cli/planning.h"

#include <spdlog/spdlog.h>

#include "cli/exit_codes.h"
#include "cli/manifest_diagnostics.h"
#include "manifest/load_manifests.h"
#include "manifest/manifest_error.h"
#include "observe/kernel_modules.h"
#include "observe/observe.h"
#include "observe/pci_id_database.h"

namespace vfio::cli {

std::variant<DesiredState, int> load_desired(const std::vector<std::string>& manifests,
                                             const CommandEnv& env) {
  try {
    return load_manifests(manifests);
  } catch (const ManifestError& e) {
    return report_manifest_error(e, env.err, env.log_style);
  }
}

std::variant<Planned, int> observe_and_plan(const DesiredState& desired, const CommandEnv& env,
                                            const OwnershipRecord& owned,
                                            const PlanOptions& options) {
  PciIdDatabase names;
  Planned out;
  try {
    // The plan needs no status-only fields.
    out.host = observe(env.sysfs, &names, ObserveDetail::Planning, env.proc);
  } catch (const ObserveError& e) {
    spdlog::error("{}", e.what());
    return kExitUnavailable;
  }
  for (const auto& f : out.host.findings) spdlog::warn("{}: {}", f.path, f.message);
  if (!out.host.vfio_pci_loaded) out.host.vfio_pci_loadable = env.modules.available("vfio-pci");
  out.plan = make_plan(desired, out.host, owned, options);
  return out;
}

}  // namespace vfio::cli
