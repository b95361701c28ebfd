// Reading one PCI device's directory into a PciDevice: from its uevent in one read where it can
// (the attribute files are the fallback), its header type from config space, its driver,
// override and IOMMU group links, and, for `status`, what only status shows. Odd files are
// findings; a device that leaves while it is read says so.
#pragma once

#include <optional>
#include <vector>

#include "observe/host_snapshot.h"
#include "observe/observe.h"
#include "sysfs/pci_address.h"
#include "sysfs/sysfs.h"

namespace vfio {

struct DeviceRead {
  PciDevice device;
  std::vector<Finding> findings;  // about this device's files
  bool vanished = false;          // it left while being read: leave it out
};

// `held`: its group's VFIO node is held open, so driver_override is not read (that read can
// block while an unbind of the device waits for the holder).
DeviceRead read_device(Sysfs& sysfs, const PciAddress& address, ObserveDetail detail, bool held);

// The IOMMU group the device's iommu_group link names; none when it has none, or the link cannot
// be read or named no group (read_device says why, when the device is read in full).
std::optional<unsigned> read_iommu_group_link(Sysfs& sysfs, const PciAddress& address);

}  // namespace vfio
