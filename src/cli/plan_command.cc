#include "cli/plan_command.h"

#include <ostream>

#include <spdlog/spdlog.h>

#include "cli/exit_codes.h"
#include "cli/ownership_input.h"
#include "cli/plan_json.h"
#include "cli/plan_text.h"
#include "cli/planning.h"
#include "observe/pci_id_database.h"
#include "plan/plan.h"

namespace vfio::cli {

int plan_exit_code(const Plan& plan, bool detailed_exitcode) {
  if (plan.unusable) return kExitUnavailable;
  if (plan.summary().blocked > 0) return kExitBlocked;
  if (detailed_exitcode && plan.has_changes()) return kExitChangesPending;
  return kExitOk;
}

int run_plan(const PlanCommandOptions& options, const CommandEnv& env) {
  // A bad manifest never reaches the planner, nor even the observation.
  auto desired = load_desired(options.manifests, env);
  if (const int* code = std::get_if<int>(&desired)) return *code;

  const LoadedRecord owned = read_ownership(env);
  const PciIdDatabase names;
  const Reconciler reconciler(env.sysfs, env.proc, env.modules, &names);
  auto planned =
      observe_and_plan(reconciler, std::get<DesiredState>(desired), owned.record, {}, env);
  if (const int* code = std::get_if<int>(&planned)) return *code;
  const Plan& plan = std::get<Planned>(planned).plan;

  if (options.json) {
    env.out << plan_json(plan).dump(2) << '\n';
  } else {
    PlanTextOptions text;
    text.explain = options.explain;
    text.color = env.color;
    print_plan_text(plan, text, env.out);
  }
  if (plan.unusable) spdlog::error("{}", *plan.unusable);
  return plan_exit_code(plan, options.detailed_exitcode);
}

}  // namespace vfio::cli
