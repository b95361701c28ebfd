// The wider host around the PCI devices: what makes taking or releasing one unsafe. observe()
// reads it in two steps, both through gateways (sysfs, and /proc rooted at --proc-root):
//
// 1. Before the devices: which VFIO groups, and which of the devices' own nodes (device_nodes.h),
//    a process holds open (node_holders.h), so that the held groups' members are read without
//    their driver_override, which can block.
// 2. After them: each device's hazards - held open, GPU in use or a node of it open, network in
//    use (network_use.h), storage in use (storage_use.h), console (console_use.h).
#pragma once

#include "observe/host_snapshot.h"
#include "observe/node_holders.h"

namespace vfio {

class KernelFiles;
class Sysfs;

// Step 1. `proc` null: nothing is known about processes (no holders).
NodeHolders read_node_holders(Sysfs& sysfs, KernelFiles* proc);

// Step 2: adds every hazard found to the snapshot's devices (a HeldOpen one to every endpoint of
// a held group), and what was odd to its findings.
void add_host_hazards(Sysfs& sysfs, KernelFiles* proc, const NodeHolders& holders,
                      HostSnapshot& snapshot);

}  // namespace vfio
