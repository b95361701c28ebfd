// Who holds a device open: the processes with a VFIO group's node /dev/vfio/<N> (and VFIO device
// fds, shown as anon_inode:[vfio-device]), or the VFIO node of one of its devices
// /dev/vfio/devices/vfio<M> (iommufd's way in, kernels with CONFIG_VFIO_DEVICE_CDEV, 6.6 on), or
// a node its host driver made (device_nodes.h: /dev/dri/card0, /dev/snd/controlC0), among their
// open files, found under /proc/<pid>/fd in one pass.
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

#include "observe/device_nodes.h"
#include "observe/host_snapshot.h"

namespace vfio {

class KernelFiles;
class Sysfs;

struct NodeHolder {
  int pid = 0;
  std::string command;      // /proc/<pid>/comm; "?" when it could not be read
  unsigned device_fds = 0;  // anon_inode:[vfio-device] descriptors the process holds
  // The nodes it holds, in name order: of a group "/dev/vfio/12", "/dev/vfio/devices/vfio0"; of
  // a device "/dev/dri/card0", "/dev/dri/renderD128".
  std::set<std::string> nodes;
};

// The VFIO nodes that exist now, by group.
struct VfioNodes {
  std::set<unsigned> groups;  // /dev/vfio/<N>: the groups looked for (those with any node)
  // A device node's name ("vfio0", "noiommu-vfio0": /dev/vfio/devices/<name>) -> its group.
  std::map<std::string, unsigned> devices;
};

struct NodeHolders {
  std::map<unsigned, std::vector<NodeHolder>> by_group;  // of VFIO nodes: by pid, per group
  // Of the devices' own nodes (`device_nodes`): by pid, per device.
  std::map<PciAddress, std::vector<NodeHolder>> by_device;
  std::vector<Finding> findings;
  // Set when the process table could not be read whole (it cannot be listed, it lists no
  // process at all, or some processes' open files may not be read): then that nobody is found
  // holding a group does not mean nobody holds it. Says why, for the refusal.
  std::optional<std::string> unseen;
  std::set<unsigned> nodes;  // the groups looked for: those with a /dev/vfio node
  DeviceNodes device_nodes;  // the devices' nodes looked for
};

// The groups that have a /dev/vfio node now: the kernel's vfio class lists one device per group
// (`class/vfio/<N>`, `noiommu-<N>` without an IOMMU) for as long as the node exists - including
// while an unbind of its last vfio-pci device is blocked, when no `driver` link says so.
std::set<unsigned> vfio_group_nodes(Sysfs& sysfs);

// The group nodes, and the device nodes: the vfio-dev class lists one per device on a vfio driver
// (`class/vfio-dev/vfio<M>`, linking below the PCI function), whose group its iommu_group link
// names. A device node whose group cannot be read is left out with a finding that says so (a
// process holding it is then not seen); one whose device went while read is left out quietly.
VfioNodes vfio_nodes(Sysfs& sysfs, std::vector<Finding>& findings);

// Reads /proc/*/fd through `proc` (a gateway rooted at /proc) for `nodes` and `devices`; nothing
// is read when there is none. Processes that exit while read are skipped quietly (they race with
// us), and so are those whose descriptors we may not read - one finding says how many.
NodeHolders find_node_holders(KernelFiles& proc, const VfioNodes& nodes,
                              const DeviceNodes& devices = {});

// The processes holding group `group`'s node, or a device node of one of its devices, now; none
// when the group has no node (then nothing in /proc is read). For apply: a group that became held
// since it was observed is not written, and a write that did not return is explained by who holds
// the device.
std::vector<NodeHolder> holders_of_group(Sysfs& sysfs, KernelFiles& proc, unsigned group);

// "pid 4242 (qemu-system-x86)", "pids 4242 (qemu-system-x86) and 4300 (vfio_holder)"
std::string describe_holders(const std::vector<NodeHolder>& holders);
// The nodes they hold: "/dev/vfio/12", "/dev/vfio/12 and /dev/vfio/devices/vfio0".
std::string describe_held_nodes(const std::vector<NodeHolder>& holders);

}  // namespace vfio
