// observe(): read the host's PCI devices, IOMMU groups and drivers through the Sysfs gateway.
#pragma once

#include <stdexcept>

#include "observe/host_snapshot.h"

namespace vfio {

class Sysfs;
class PciIdDatabase;

// The one fatal case: the root holds no PCI bus at all (wrong --sysfs-root, no sysfs mounted).
class ObserveError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// Reads every device under bus/pci/devices. A device that vanishes while being read is left out
// and a missing or malformed attribute leaves its field unset; both are recorded as findings.
// `names` may be null (no pci.ids names).
HostSnapshot observe(Sysfs& sysfs, const PciIdDatabase* names);

}  // namespace vfio
