// The steps plan and apply share, so that `plan`, `apply --dry-run` and `apply` cannot drift:
// manifests to desired state, then the reconcile pipeline's observation and planner.
#pragma once

#include <optional>
#include <string>
#include <variant>
#include <vector>

#include "apply/reconciler.h"
#include "cli/command_env.h"
#include "manifest/desired_state.h"
#include "manifest/load_manifests.h"
#include "plan/plan.h"

namespace vfio::cli {

// The manifests, or the exit code after reporting why not (65 invalid, 66 missing). `read`,
// when given, receives each file as read (a saved plan keeps them).
std::variant<DesiredState, int> load_desired(const std::vector<std::string>& manifests,
                                             const CommandEnv& env,
                                             std::vector<ManifestSource>* read = nullptr);

// Observes the host and plans through `reconciler`. Exit code 69 when there is no PCI sysfs to
// observe, 65 (reported as manifest errors) when two owners ask for one IOMMU group.
std::variant<Planned, int> observe_and_plan(const Reconciler& reconciler,
                                            const DesiredState& desired,
                                            const OwnershipRecord& owned,
                                            const PlanOptions& options, const CommandEnv& env);

}  // namespace vfio::cli
