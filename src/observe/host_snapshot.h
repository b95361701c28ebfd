// HostSnapshot: what the host's PCI world looked like when observed. Plain data, no I/O.
//
// The planner (and `status`) work from this alone, so everything they need to decide must be
// here; anything odd found while reading is kept as a Finding rather than aborting the run.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "observe/vfio_drivers.h"
#include "sysfs/pci_address.h"

namespace vfio {

// What the device is, as far as binding goes: vfio-pci takes only endpoints.
enum class DeviceKind { Endpoint, Bridge, CardBusBridge };
// Where the kind came from: the header type byte of `config`, or the class code when `config`
// could not be read (it needs root on a real host for more than the header, and may be short).
enum class KindSource { ConfigHeader, ClassCode };

std::string_view to_string(DeviceKind kind);

struct PciIds {
  uint16_t vendor = 0;
  uint16_t device = 0;
  uint16_t subsystem_vendor = 0;
  uint16_t subsystem_device = 0;
  uint32_t class_code = 0;  // 0xBBSSPP
};

struct SriovInfo {
  unsigned total_vfs = 0;
  unsigned enabled_vfs = 0;
  std::vector<PciAddress> vfs;  // from the PF's virtfnN links, in VF order
  // sriov_drivers_autoprobe: whether a new VF meets its host driver (while false, only the
  // driver its driver_override names may take it).
  bool drivers_autoprobe = true;
  // Where VF i will be: routing ID = the PF's + offset + stride * i (sriov_offset, sriov_stride;
  // none when unreadable).
  std::optional<unsigned> offset;
  std::optional<unsigned> stride;
};

// Something in the wider host that makes taking or releasing a device unsafe: a process holding
// its VFIO node, a NIC carrying routes, a mounted disk, the console. The planner refuses such
// devices; the observation of the wider host fills this in.
struct Hazard {
  // HoldersUnknown: the device's group has a /dev/vfio node, but /proc could not be read whole,
  // so whether a process holds it is not known. GpuInUse: a process holds one of the GPU's own
  // nodes (/dev/dri/card0, renderD128, /dev/nvidia0); NodeOpen: another node its host driver
  // made (/dev/snd/controlC0), which a claim warns of but does not refuse.
  enum class Kind {
    HeldOpen,
    NetworkInUse,
    StorageInUse,
    Console,
    HoldersUnknown,
    GpuInUse,
    NodeOpen,
    BootDisplay  // the firmware's boot display (boot_vga=1): the host's console may need it
  };
  Kind kind = Kind::Console;
  std::string detail;  // "held open by pid 4242 (qemu-system-x86)", "default route on eth0"
  // NodeOpen: the unbind from the device's driver waits until the holder lets go (a sound card's).
  bool unbind_waits = false;
};
using HazardsByDevice = std::map<PciAddress, std::vector<Hazard>>;
std::string_view to_string(Hazard::Kind kind);  // "held-open", "network-in-use", ...

struct PciDevice {
  PciAddress address{0, 0, 0, 0};
  PciIds ids;  // names are looked up when printed (observe/device_names.h)
  DeviceKind kind = DeviceKind::Endpoint;
  KindSource kind_source = KindSource::ConfigHeader;
  std::optional<std::string> driver;           // none: no driver bound
  std::optional<std::string> driver_override;  // none: reads "(null)", or not read (below)
  // driver_override was not read: the group's VFIO node is held open, and reading it blocks
  // for as long as an unbind of the device is waiting for the holder to let go.
  bool driver_override_unread = false;
  std::optional<unsigned> iommu_group;  // none: not translated by an IOMMU
  std::optional<bool> boot_vga;         // VGA devices only
  std::optional<int> numa_node;         // none: unknown or -1
  std::optional<PciAddress> physfn;     // SR-IOV VF: its PF
  std::optional<SriovInfo> sriov;       // SR-IOV PF
  std::optional<std::string> label;
  std::vector<Hazard> hazards;
  // The driver, and the driver driver_override names, are vfio variant drivers (modules.alias
  // says so; see vfio_drivers.h). vfio-pci itself is known by its name.
  bool driver_is_vfio_variant = false;
  bool override_is_vfio_variant = false;

  bool is_vf() const { return physfn.has_value(); }
  // On vfio-pci or a vfio variant driver; overridden to one.
  bool on_vfio_driver() const;
  bool overridden_to_vfio_driver() const;
};

struct IommuGroup {
  unsigned id = 0;
  std::vector<PciAddress> members;  // sorted; bridges and root ports included
};

// Something odd met while observing: a device that vanished mid-read, an unreadable or
// malformed attribute. Reported, never fatal. Code that acts on a finding branches on its kind
// and device, never on its message, which is for people.
struct Finding {
  enum class Kind {
    Unreadable,      // a file, link or directory could not be read
    Malformed,       // what was read is not what the kernel writes there
    DeviceVanished,  // a listed device went away while it was being read; it is left out
    GroupMismatch,   // a device's iommu_group link and the group's member list disagree
    HoldersUnknown,  // some process's open VFIO files could not be attributed or read
  };
  Finding(Kind kind_, std::string path_, std::string message_,
          std::optional<PciAddress> device_ = std::nullopt)
      : kind(kind_), device(device_), path(std::move(path_)), message(std::move(message_)) {}

  Kind kind;
  std::optional<PciAddress> device;  // the device it concerns, where there is one
  std::string path;                  // the sysfs or /proc path involved, as a person types it
  std::string message;               // what was wrong, for people
};

struct HostSnapshot {
  std::vector<PciDevice> devices;         // sorted by address
  std::map<unsigned, IommuGroup> groups;  // by group number
  std::vector<std::string> iommu_units;   // class/iommu entries (dmar0, ivhd0, ...), sorted
  bool vfio_pci_loaded = false;           // bus/pci/drivers/vfio-pci exists
  // Whether the vfio-pci module could be loaded (asked of the module tools, not of sysfs);
  // none: not asked.
  std::optional<bool> vfio_pci_loadable;
  std::vector<Finding> findings;
  // The running kernel's vfio drivers, when modules.alias was read (note_vfio_drivers): only
  // when a manifest names a driver or a device is on a driver that may be a vfio variant.
  std::optional<VfioDriverCatalog> vfio_drivers;

  // An IOMMU translates DMA: units are registered or devices sit in groups.
  bool iommu_active() const { return !iommu_units.empty() || !groups.empty(); }
  const PciDevice* find(const PciAddress& address) const;
};

}  // namespace vfio
