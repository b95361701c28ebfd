// `apply` for a person: the plan's blocks, each followed by what happened to the group, then a
// last line with the counts ("Applied: 1 claimed, ..."). Of `options`, explain and color count.
#pragma once

#include <iosfwd>

#include "apply/apply_outcome.h"
#include "cli/plan_text.h"
#include "plan/plan.h"

namespace vfio::cli {

void print_apply_text(const Plan& plan, const ApplyOutcome& outcome, const DeviceNames& names,
                      PlanTextOptions options, std::ostream& out);

}  // namespace vfio::cli
