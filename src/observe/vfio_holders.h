// Who holds a VFIO group's node open: the processes that have /dev/vfio/<N> (and VFIO device
// fds, shown as anon_inode:[vfio-device]) among their open files, found under /proc/<pid>/fd.
//
// A device whose VFIO fd a process (QEMU) holds cannot be released: the unbind sleeps in the
// kernel until the process lets go, and meanwhile even reading the device's driver_override
// blocks. See docs/kernel-pci-sysfs.md, "A device in use by a VM".
#pragma once

#include <map>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "observe/host_snapshot.h"

namespace vfio {

class KernelFiles;
class Sysfs;

struct VfioHolder {
  int pid = 0;
  std::string command;      // /proc/<pid>/comm; "?" when it could not be read
  unsigned device_fds = 0;  // anon_inode:[vfio-device] descriptors the process holds
};

struct VfioHolders {
  std::map<unsigned, std::vector<VfioHolder>> by_group;  // holders by pid, per group
  std::vector<Finding> findings;
  // Set when the process table could not be read whole (it cannot be listed, it lists no
  // process at all, or some processes' open files may not be read): then that nobody is found
  // holding a group does not mean nobody holds it. Says why, for the refusal.
  std::optional<std::string> unseen;
  std::set<unsigned> nodes;  // the groups looked for: those with a /dev/vfio node
};

// The groups that have a /dev/vfio node now: the kernel's vfio class lists one device per group
// (`class/vfio/<N>`, `noiommu-<N>` without an IOMMU) for as long as the node exists - including
// while an unbind of its last vfio-pci device is blocked, when no `driver` link says so.
std::set<unsigned> vfio_group_nodes(Sysfs& sysfs);

// Reads /proc/*/fd through `proc` (a gateway rooted at /proc) for the nodes of `groups`; nothing
// is read when `groups` is empty. Processes that exit while read are skipped quietly (they race
// with us), and so are those whose descriptors we may not read - one finding says how many.
VfioHolders find_vfio_holders(KernelFiles& proc, const std::set<unsigned>& groups);

// The processes holding group `group`'s node now; none when the group has no node (then nothing
// in /proc is read). For apply: a group that became held since it was observed is not written,
// and a write that did not return is explained by who holds the device.
std::vector<VfioHolder> holders_of_group(Sysfs& sysfs, KernelFiles& proc, unsigned group);

// "pid 4242 (qemu-system-x86)", "pids 4242 (qemu-system-x86) and 4300 (vfio_holder)"
std::string describe_holders(const std::vector<VfioHolder>& holders);

}  // namespace vfio
