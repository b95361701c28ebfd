#include "cli/planning.h"

#include <spdlog/spdlog.h>

#include "cli/exit_codes.h"
#include "cli/manifest_diagnostics.h"
#include "manifest/load_manifests.h"
#include "manifest/manifest_error.h"
#include "observe/observe.h"

namespace vfio::cli {

std::variant<DesiredState, int> load_desired(const std::vector<std::string>& manifests,
                                             const CommandEnv& env,
                                             std::vector<ManifestSource>* read) {
  try {
    return load_manifests(env.store, manifests, read);
  } catch (const ManifestError& e) {
    return report_manifest_error(e, env.err, env.log_style);
  }
}

std::variant<Planned, int> observe_and_plan(const Reconciler& reconciler,
                                            const DesiredState& desired,
                                            const OwnershipRecord& owned,
                                            const PlanOptions& options, const CommandEnv& env) {
  try {
    Planned planned = reconciler.plan(desired, owned, options);
    if (!planned.plan.manifest_conflicts.empty()) {
      return report_manifest_error(ManifestError(planned.plan.manifest_conflicts), env.err,
                                   env.log_style);
    }
    return planned;
  } catch (const ObserveError& e) {
    spdlog::error("{}", e.what());
    return kExitUnavailable;
  }
}

}  // namespace vfio::cli
