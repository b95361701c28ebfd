// `vfio-reconcile plan MANIFEST... [--json] [--detailed-exitcode] [--explain] [--no-prune]
// [--out FILE]`: what apply would do, read-only by construction (the planner does no I/O; the
// ownership record is read, never created; the one file written is --out's, the saved plan,
// cli/saved_plan.h).
#pragma once

#include <string>
#include <vector>

#include "cli/command_env.h"

namespace vfio {
struct Plan;
}  // namespace vfio

namespace vfio::cli {

struct PlanCommandOptions {
  std::vector<std::string> manifests;
  bool json = false;
  bool detailed_exitcode = false;
  bool explain = false;
  bool no_prune = false;  // as apply --no-prune: keep groups no manifest names any more
  std::string out;        // not empty: save the plan there, for apply --plan
};

int run_plan(const PlanCommandOptions& options, const CommandEnv& env);

// The contract's codes for a plan: 69 unusable host, 78 something blocked, 2 changes pending
// (with --detailed-exitcode), else 0.
int plan_exit_code(const Plan& plan, bool detailed_exitcode);

}  // namespace vfio::cli
