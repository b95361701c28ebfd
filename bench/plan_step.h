// The benchmark's manifests and its plan step: make_plan() over the snapshot the observe step
// produced.
#pragma once

#include <cstddef>

#include "manifest/desired_state.h"
#include "observe/host_snapshot.h"

namespace vfio::bench {

// Every NVIDIA GPU by vendor and class (their audio functions come along as companions): a
// manifest about a few dozen of the host's devices, as the measurement was.
const DesiredState& gpu_manifest();

// What a fleet manifest for this kind of host asks: the GPUs, every E810 and ConnectX VF by ids,
// and the NVMe drives kept on the host: on the generated host, nearly every device.
const DesiredState& fleet_manifest();

// Plans `desired` once on the snapshot. Returns the number of planned changes, so the work
// cannot be optimised away.
std::size_t plan_step(const DesiredState& desired, const HostSnapshot& snapshot);

}  // namespace vfio::bench
