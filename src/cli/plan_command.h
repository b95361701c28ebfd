// `vfio-reconcile plan MANIFEST... [--json] [--detailed-exitcode] [--explain]`: what apply would
// do, read-only by construction (the planner does no I/O, and nothing here writes; the
// ownership record is read, never created).
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
};

int run_plan(const PlanCommandOptions& options, const CommandEnv& env);

// The contract's codes for a plan: 69 unusable host, 78 something blocked, 2 changes pending
// (with --detailed-exitcode), else 0.
int plan_exit_code(const Plan& plan, bool detailed_exitcode);

}  // namespace vfio::cli
