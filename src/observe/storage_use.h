// Whether a storage controller's disks are in use: the block devices below the PCI function
// (class/block entries: disks and their partitions, and NVMe multipath heads through their
// `multipath` paths), each matched against the mounts (/proc/self/mountinfo), swap (/proc/swaps)
// and its `holders/` (device-mapper: LVM, dm-crypt; md RAID), whose own mounts are named too.
//
// Mounts are matched by major:minor from mountinfo, which names the device exactly, and also by
// source name ("/dev/nvme0n1p2", "/dev/mapper/vg-root"): btrfs reports an anonymous device
// number (0:NN) for its mounts, so only the source tells which disk it lives on.
#pragma once

#include <vector>

#include "observe/host_snapshot.h"

namespace vfio {

class KernelFiles;
class Sysfs;

// A StorageInUse hazard for each PCI function with a disk or partition that is mounted, used as
// swap or held by another block device. `proc` may be null: mounts and swap are then not known.
HazardsByDevice find_storage_use(Sysfs& sysfs, KernelFiles* proc, std::vector<Finding>& findings);

}  // namespace vfio
