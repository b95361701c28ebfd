// The regular attribute files of a PCI device directory, as the kernel renders them.
//
// Shared by the simulator (answering reads) and the on-disk host writer (writing files), so the
// two can never disagree on what a device looks like.
#pragma once

#include <map>
#include <string>

#include "sim/topology.h"

namespace vfio::sim {

// Name -> exact contents ("0x10de\n", binary config space, ...) for every regular file the
// kernel gives this device: vendor, device, subsystem_vendor, subsystem_device, class,
// revision, numa_node, modalias, uevent, driver_override, config, boot_vga (VGA class only), label
// (when set), sriov_totalvfs/sriov_numvfs/sriov_drivers_autoprobe (PFs only).
// `multifunction`: another function shares the slot (sets bit 7 of the header type byte).
// `enabled_vfs`: the PF's current sriov_numvfs. uevent's DRIVER= is `device.bound_driver`:
// pass the driver the `driver` link shows at this moment (the simulator's current()).
std::map<std::string, std::string> device_attributes(const TopologyDevice& device,
                                                     bool multifunction, unsigned enabled_vfs);

// The device's `uevent` file: DRIVER= (when bound_driver is set), PCI_CLASS, PCI_ID,
// PCI_SUBSYS_ID, PCI_SLOT_NAME, MODALIAS, as the kernel's dev_uevent and pci_uevent render it.
std::string uevent(const TopologyDevice& device);

// The 256 bytes of conventional config space (PCIe devices would give 4096; the tool reads only
// the header). SR-IOV VFs read ffff ffff in their first dword, as on real hardware.
std::string config_space(const TopologyDevice& device, bool multifunction);

// Whether a class code is a VGA-compatible display controller (the ones that get boot_vga).
bool is_vga_class(uint32_t class_code);

}  // namespace vfio::sim
