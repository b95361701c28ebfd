// Topology: a host's PCI devices, IOMMU groups and drivers, as plain data.
//
// The kernel simulator starts from one, the on-disk host writer lays one out as a sysfs tree,
// and KernelSimulator::topology() exports the simulator's current state as one again, so a state
// reached by simulated writes can be written to disk for the real binary to observe.
// Topologies are written in YAML (see topology_yaml.h and examples/hosts/).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "sysfs/pci_address.h"

namespace vfio::sim {

// Byte 0x0e of config space, low 7 bits.
enum class HeaderType : uint8_t { Endpoint = 0, Bridge = 1, CardBus = 2 };

struct TopologyDevice {
  PciAddress address{0, 0, 0, 0};
  std::optional<PciAddress> parent;  // the upstream bridge; none: on the root bus
  uint16_t vendor = 0;
  uint16_t device = 0;
  uint16_t subsystem_vendor = 0;
  uint16_t subsystem_device = 0;
  uint32_t class_code = 0;  // 0xBBSSPP: base class, subclass, prog-if
  uint8_t revision = 0;
  HeaderType header = HeaderType::Endpoint;
  std::optional<unsigned> iommu_group;         // none: not translated (or IOMMU off)
  std::optional<std::string> host_driver;      // the driver whose ID table matches it, if any
  std::optional<std::string> bound_driver;     // the driver bound now (host_driver, vfio-pci...)
  std::optional<std::string> driver_override;  // none reads back as "(null)"
  std::optional<bool> boot_vga;                // present on VGA devices only
  int numa_node = -1;
  std::optional<PciAddress> physfn;  // SR-IOV VFs: their PF
  unsigned sriov_total_vfs = 0;      // SR-IOV PFs: the capability's TotalVFs
  std::optional<std::string> label;  // firmware label ("Onboard LAN"), when the slot has one
};

struct TopologyDriver {
  std::string name;                   // as in /sys/bus/pci/drivers ("snd_hda_intel")
  std::optional<std::string> module;  // as in /sys/module ("snd_hda_intel"); none: built in
  bool dma_safe = false;              // binding it keeps a group viable (pcieport, pci-stub)
};

struct Topology {
  std::string name;
  std::string description;
  bool iommu = true;  // an IOMMU is active (class/iommu populated)
  std::vector<std::string> iommu_units{"dmar0"};
  enum class VfioPci { Loaded, Loadable, Missing };
  VfioPci vfio_pci = VfioPci::Loaded;
  std::vector<TopologyDevice> devices;  // SR-IOV VFs included, sorted by address
  std::vector<TopologyDriver> drivers;  // every driver a device names, vfio-pci when loaded

  const TopologyDevice* find(const PciAddress& address) const;
  const TopologyDriver* find_driver(std::string_view driver) const;
};

}  // namespace vfio::sim
