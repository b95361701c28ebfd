// The benchmark's plan step: make_plan() over the snapshot the observe step produced.
//
// Kept in a file of its own so the planner can be wired in once it is merged, without touching
// the timing code: until then the step reports "not measured" and the bench times observe only.
#pragma once

#include <cstddef>
#include <optional>

#include "observe/host_snapshot.h"

namespace vfio::bench {

// Runs the plan step once over `snapshot`. Returns a number derived from the result (so the
// work cannot be optimised away; e.g. the plan's group count), or std::nullopt when the step is
// not available in this build, in which case the bench reports it as not yet measured.
std::optional<std::size_t> plan_step(const HostSnapshot& snapshot);

}  // namespace vfio::bench
