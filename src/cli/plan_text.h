// The human plan: one block per IOMMU group, marked `+` claim, `-` release, `=` adopt or
// unchanged, `!` blocked; each device with its ids, name and `driver -> driver`; a summary last.
#pragma once

#include <iosfwd>

#include "plan/plan.h"

namespace vfio::cli {

struct PlanTextOptions {
  bool explain = false;  // add the why of each block: assignment, match, group peers
};

void print_plan_text(const Plan& plan, const PlanTextOptions& options, std::ostream& out);

// "Plan: 1 to claim, 0 to release, 0 adopted, 1 blocked." or "No changes."
std::string plan_summary_line(const Plan& plan);

}  // namespace vfio::cli
