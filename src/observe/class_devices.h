// Which PCI device a class device (a network interface, a disk, a framebuffer) belongs to.
//
// /sys/class/<class>/<name> links into the device tree: a device below a PCI function has that
// function's address among the link's components
// ("../../devices/pci0000:00/0000:00:1f.6/net/eno1"). Reading the class directory once is far
// cheaper than looking for net/, block/ or graphics/ below every PCI device of a large host.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "observe/host_snapshot.h"
#include "sysfs/pci_address.h"
#include "sysfs/sys_path.h"

namespace vfio {

class Sysfs;

struct ClassDevice {
  std::string name;                  // "eno1", "nvme0n1p1", "fb0"
  std::string link;                  // the class link's target, as stored
  std::optional<PciAddress> device;  // the PCI function it lies below; none: virtual
};

// The entries of class/<class_name>, in name order. A class the kernel does not have (no
// network, no block layer) is no entry, not a finding; an entry that is not a link, or that
// vanished while read, is left out.
std::vector<ClassDevice> class_devices(Sysfs& sysfs, std::string_view class_name,
                                       std::vector<Finding>& findings);

// The last component of a sysfs path that is a PCI address: the function nearest the class
// device (a NIC behind a switch lies below the switch's ports too).
std::optional<PciAddress> pci_device_in(std::string_view link_target);

// class/<class_name>/<name>/<file>.
SysPath class_file(std::string_view class_name, std::string_view name, std::string_view file);

}  // namespace vfio
