// `vfio-reconcile plan MANIFEST... [--json] [--detailed-exitcode] [--explain]`: what apply would
// do, read-only by construction (it is handed the gateway but the planner does no I/O, and
// nothing here writes).
#pragma once

#include <iosfwd>
#include <string>
#include <vector>

namespace vfio {
class KernelModules;
class Sysfs;
struct Plan;
}  // namespace vfio

namespace vfio::cli {

struct PlanCommandOptions {
  std::vector<std::string> manifests;
  bool json = false;
  bool detailed_exitcode = false;
  bool explain = false;
};

int run_plan(const PlanCommandOptions& options, Sysfs& sysfs, KernelModules& modules,
             std::ostream& out, std::ostream& err);

// The contract's codes for a plan: 69 unusable host, 78 something blocked, 2 changes pending
// (with --detailed-exitcode), else 0.
int plan_exit_code(const Plan& plan, bool detailed_exitcode);

}  // namespace vfio::cli
