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

// What lies below a device in the wider host (host_files.h lays it out in sysfs and /proc).
struct TopologyInterface {  // a network interface: class/net/<name>
  std::string name;
  std::string operstate = "down";
  std::optional<std::string> master;  // the bridge or bond it is a port of
  bool bond = false;                  // the master is a bond (else a bridge)
};
struct TopologyDisk {  // a block device: class/block/<name>
  std::string name;
  std::string dev;                       // "259:1"
  std::vector<std::string> holders;      // block devices built on it (dm-0, md0)
  std::vector<TopologyDisk> partitions;  // a disk's partitions (none below a partition)
};

// An SR-IOV PF's capability, as the kernel reads it to create VFs when `sriov_numvfs` is written:
// where VF i sits (routing ID = the PF's + offset + stride * i), the VF Device ID, and which host
// driver the VFs' ID table belongs to.
struct TopologyVfTemplate {
  uint16_t offset = 1;                // First VF Offset
  uint16_t stride = 1;                // VF Stride
  uint16_t vendor = 0;                // the kernel gives a VF its PF's vendor
  uint16_t device = 0;                // VF Device ID
  std::optional<std::string> driver;  // the VFs' host driver (iavf, mlx5_core); none: no driver
};

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
  std::optional<PciAddress> physfn;        // SR-IOV VFs: their PF
  unsigned sriov_total_vfs = 0;            // SR-IOV PFs: the capability's TotalVFs
  TopologyVfTemplate vf_template;          // SR-IOV PFs: how its VFs are made
  bool sriov_drivers_autoprobe = true;     // SR-IOV PFs: do new VFs meet their host driver
  std::optional<std::string> label;        // firmware label ("Onboard LAN"), when the slot has one
  std::vector<TopologyInterface> net;      // a NIC's interfaces (while its driver is bound)
  std::vector<TopologyDisk> disks;         // a storage controller's disks
  std::optional<std::string> framebuffer;  // "fb0": a display's framebuffer
  // The device nodes its host driver makes while bound (host_files.h, sim_device_node()):
  // "card0", "renderD128" (DRM), "controlC0", "pcmC0D0p" (sound), "nvidia0".
  std::vector<std::string> nodes;
  // M of its VFIO device node vfio<M> (class vfio-dev, /dev/vfio/devices/vfio<M>) while it is on
  // vfio-pci, on a kernel that has such nodes; none there: the lowest free, in address order.
  std::optional<unsigned> vfio_device;
};

// VF `index` of SR-IOV PF `pf`, as the kernel creates it (pci_iov_add_virtfn): its address from
// the PF's routing ID, offset and stride; the template's ids, the PF's subsystem, class, revision,
// parent and NUMA node; no group, no driver bound. None: the routing ID would pass bus ff.
std::optional<TopologyDevice> make_vf(const TopologyDevice& pf, unsigned index);

// The host around the devices: /proc, and virtual devices in sysfs.
struct TopologyProcess {
  unsigned pid = 0;
  std::string command;
  std::vector<unsigned> vfio_groups;  // /dev/vfio/<N> it holds open
  unsigned device_fds = 0;            // anon_inode:[vfio-device] fds it holds
  // Devices whose VFIO device node /dev/vfio/devices/vfio<M> it holds, bound to an iommufd
  // (/dev/iommu) as QEMU does: iommufd's way in, instead of the group node.
  std::vector<PciAddress> vfio_devices;
  // Other files it holds open: the nodes of devices ("/dev/dri/card0", "/dev/snd/controlC0").
  std::vector<std::string> files;
};
struct TopologyMount {
  std::string source;  // "/dev/nvme0n1p2"
  std::string target;  // "/"
  std::string fstype = "ext4";
  std::string dev;  // major:minor as mountinfo shows it
};
struct TopologyRoute {
  std::string dev;  // interface
  std::string to;   // "default" or "192.168.1.0/24"
  std::optional<std::string> via;
};
struct TopologyVirtualBlock {  // dm-0 (LVM, dm-crypt), md0 (RAID)
  std::string name;
  std::string dev;
  std::optional<std::string> dm_name;  // "vg0-root"
};
struct TopologyHost {
  bool fbcon = false;  // the framebuffer console is bound to the virtual terminals
  std::vector<TopologyProcess> processes;
  std::vector<TopologyMount> mounts;
  std::vector<std::string> swaps;                                   // sources ("/dev/nvme0n1p3")
  std::vector<TopologyRoute> routes;                                // IPv4
  std::vector<std::pair<std::string, std::string>> ipv6_addresses;  // (dev, "2001:db8::10/64")
  std::vector<std::string> virtual_interfaces;                      // bridges and bonds (br0)
  std::vector<TopologyVirtualBlock> virtual_blocks;
};

struct TopologyDriver {
  std::string name;                   // as in /sys/bus/pci/drivers ("snd_hda_intel")
  std::optional<std::string> module;  // as in /sys/module ("snd_hda_intel"); none: built in
  bool dma_safe = false;              // binding it keeps a group viable (pcieport, pci-stub)
  // A vfio variant driver (mlx5_vfio_pci): its ID table is override-only (`vfio_pci:` aliases
  // in modules.alias), so it binds only a device whose driver_override names it, and it probes
  // as vfio-pci does.
  std::vector<std::string> vfio_aliases{};  // "vfio_pci:v000015B3d0000101Esv*sd*bc*sc*i*"
  bool loaded = true;                       // registered at start (else: modprobe loads it)

  bool vfio_variant() const { return !vfio_aliases.empty(); }
};

// The kernel's version, for the facts that differ between kernel lines (kernel-pci-sysfs.md,
// "Kernel lines").
struct KernelVersion {
  unsigned major = 6;
  unsigned minor = 1;
  auto operator<=>(const KernelVersion&) const = default;
};
// The first kernel that can have VFIO device nodes (CONFIG_VFIO_DEVICE_CDEV).
inline constexpr KernelVersion kFirstWithVfioDeviceNodes{6, 6};

struct Topology {
  std::string name;
  std::string description;
  KernelVersion kernel;  // 6.1 (Debian 12's) unless said
  // VFIO device nodes, iommufd's way to a device: class vfio-dev, vfio-dev/vfio<M> below the
  // device, /dev/vfio/devices/vfio<M>. Kernels from 6.6 built with CONFIG_IOMMUFD and
  // CONFIG_VFIO_DEVICE_CDEV; not Debian's 6.12 (bookworm-backports), which sets neither.
  bool vfio_device_nodes = false;
  bool iommu = true;  // an IOMMU is active (class/iommu populated)
  std::vector<std::string> iommu_units{"dmar0"};
  enum class VfioPci { Loaded, Loadable, Missing };
  VfioPci vfio_pci = VfioPci::Loaded;
  std::vector<TopologyDevice> devices;  // SR-IOV VFs included, sorted by address
  std::vector<TopologyDriver> drivers;  // every driver a device names, vfio-pci when loaded
  TopologyHost host;

  const TopologyDevice* find(const PciAddress& address) const;
  const TopologyDriver* find_driver(std::string_view driver) const;
};

}  // namespace vfio::sim
