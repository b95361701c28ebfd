// The benchmark's plan step: make_plan() over the snapshot the observe step produced.
#pragma once

#include <cstddef>

#include "observe/host_snapshot.h"

namespace vfio::bench {

// Plans, once, what a fleet manifest for this kind of host asks: every NVIDIA GPU by vendor and
// class (their audio functions come along as companions), every E810 and ConnectX VF by ids,
// and the NVMe drives kept on the host. Returns the number of planned changes, so the work
// cannot be optimised away.
std::size_t plan_step(const HostSnapshot& snapshot);

}  // namespace vfio::bench
