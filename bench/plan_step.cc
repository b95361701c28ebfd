#include "plan_step.h"

namespace vfio::bench {

// TO FILL IN once the planner (src/plan/plan.cc) is merged: build a DesiredState once (e.g. an
// assignment selecting every NVIDIA GPU by vendor/class and one selecting the E810 VFs by ids,
// so both Claim and Noop/Adopt groups are planned), then time
//
//   Plan plan = make_plan(desired, snapshot, OwnershipRecord{});
//   return plan.changes.size();
//
// and add plan/*.cc to the sources vfio_core builds. Until then there is no make_plan() to call
// (linking it fails), so the step says so and the bench leaves it out of the timings.
std::optional<std::size_t> plan_step(const HostSnapshot& snapshot) {
  (void)snapshot;
  return std::nullopt;
}

}  // namespace vfio::bench
