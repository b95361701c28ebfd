#include "cli/plan_command.h"

#include <ostream>

#include <spdlog/spdlog.h>

#include "cli/exit_codes.h"
#include "cli/ownership_input.h"
#include "cli/plan_json.h"
#include "cli/plan_text.h"
#include "cli/planning.h"
#include "cli/saved_plan.h"
#include "observe/pci_id_database.h"
#include "plan/plan.h"
#include "store/store.h"

namespace vfio::cli {

namespace {

// Written whole or not at all: a new file beside it, then renamed over FILE (a plan saved
// before is replaced, as terraform plan -out replaces it).
bool save_plan(const std::string& file, const std::string& bytes, const CommandEnv& env) {
  const Store::Path target(file);
  const Store::Path scratch = target.parent_path() / ("." + target.filename().string() + ".new");
  (void)env.store.remove(scratch);  // a run killed half-way may have left one
  auto done = env.store.create(scratch, bytes, 0644);
  if (done) done = env.store.sync_file(scratch);
  if (done) done = env.store.rename(scratch, target, true);
  if (!done) {
    (void)env.store.remove(scratch);
    spdlog::error("cannot save the plan to {}: {}", file, done.error().to_string());
    return false;
  }
  return true;
}

}  // namespace

int plan_exit_code(const Plan& plan, bool detailed_exitcode) {
  if (plan.unusable) return kExitUnavailable;
  if (plan.summary().blocked > 0) return kExitBlocked;
  if (detailed_exitcode && plan.has_changes()) return kExitChangesPending;
  return kExitOk;
}

int run_plan(const PlanCommandOptions& options, const CommandEnv& env) {
  // A bad manifest never reaches the planner, nor even the observation.
  std::vector<ManifestSource> read;
  auto desired = load_desired(options.manifests, env, options.out.empty() ? nullptr : &read);
  if (const int* code = std::get_if<int>(&desired)) return *code;

  const LoadedRecord owned = read_ownership(env);
  const Reconciler reconciler(env.sysfs, env.proc, env.modules);
  const PlanOptions plan_options{.prune = !options.no_prune, .scope = {}};
  auto planned = observe_and_plan(reconciler, std::get<DesiredState>(desired), owned.record,
                                  plan_options, env);
  if (const int* code = std::get_if<int>(&planned)) return *code;
  const Planned& made = std::get<Planned>(planned);
  const Plan& plan = made.plan;
  // An unusable host has no plan worth keeping (apply would refuse it the same way).
  // pci.ids is read on the first name printed or saved, if any (observe/device_names.h).
  const PciIdDatabase names;
  if (!options.out.empty() && !plan.unusable) {
    if (!save_plan(options.out, encode_saved_plan(read, !options.no_prune, made.host, plan, names),
                   env)) {
      return kExitCannotCreate;
    }
  }

  if (options.json) {
    env.out << plan_json(plan, names).dump(2) << '\n';
  } else {
    PlanTextOptions text;
    text.explain = options.explain;
    text.color = env.color;
    print_plan_text(plan, names, text, env.out);
  }
  if (plan.unusable) spdlog::error("nothing can be planned: {}", *plan.unusable);
  if (!options.out.empty() && !plan.unusable && !options.json) {
    env.out << "Saved the plan to " << options.out
            << "; apply exactly this plan with: vfio-reconcile apply --plan " << options.out
            << '\n';
  }
  return plan_exit_code(plan, options.detailed_exitcode);
}

}  // namespace vfio::cli
