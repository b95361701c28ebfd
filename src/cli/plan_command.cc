#include "cli/plan_command.h"

#include <ostream>

#include <spdlog/spdlog.h>

#include "cli/exit_codes.h"
#include "cli/manifest_diagnostics.h"
#include "cli/plan_json.h"
#include "cli/plan_text.h"
#include "manifest/load_manifests.h"
#include "manifest/manifest_error.h"
#include "observe/kernel_modules.h"
#include "observe/observe.h"
#include "observe/pci_id_database.h"
#include "plan/plan.h"

namespace vfio::cli {

int plan_exit_code(const Plan& plan, bool detailed_exitcode) {
  if (plan.unusable) return kExitUnavailable;
  if (plan.summary().blocked > 0) return kExitBlocked;
  if (detailed_exitcode && plan.has_changes()) return kExitChangesPending;
  return kExitOk;
}

int run_plan(const PlanCommandOptions& options, Sysfs& sysfs, KernelModules& modules,
             std::ostream& out, std::ostream& err) {
  // A bad manifest never reaches the planner, nor even the observation.
  DesiredState desired;
  try {
    desired = load_manifests(options.manifests);
  } catch (const ManifestError& e) {
    return report_manifest_error(e, err);
  }

  PciIdDatabase names;
  HostSnapshot host;
  try {
    host = observe(sysfs, &names, ObserveDetail::Planning);  // the plan needs no status-only fields
  } catch (const ObserveError& e) {
    spdlog::error("{}", e.what());
    return kExitUnavailable;
  }
  for (const auto& f : host.findings) spdlog::warn("{}: {}", f.path, f.message);
  if (!host.vfio_pci_loaded) host.vfio_pci_loadable = modules.available("vfio-pci");

  // The ownership journal comes with `apply`; until a run has recorded something, this tool
  // owns nothing, so nothing is pruned.
  const OwnershipRecord owned;
  const Plan plan = make_plan(desired, host, owned);

  if (options.json) {
    out << plan_json(plan).dump(2) << '\n';
  } else {
    print_plan_text(plan, PlanTextOptions{options.explain}, out);
  }
  if (plan.unusable) spdlog::error("{}", *plan.unusable);
  return plan_exit_code(plan, options.detailed_exitcode);
}

}  // namespace vfio::cli
