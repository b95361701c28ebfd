// The vfio drivers the running kernel has: vfio-pci, and the vfio variant drivers
// (mlx5_vfio_pci, nvgrace_gpu_vfio_pci, virtio_vfio_pci, ...), known by the `vfio_pci:` aliases
// their ID tables put in modules.alias (PCI_DRIVER_OVERRIDE_DEVICE_VFIO). `driver: auto` picks
// the most specific alias that matches a device, as libvirt and NVIDIA's vfio-manage do.
#pragma once

#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

namespace vfio {

struct PciIds;
struct HostSnapshot;

// One `alias vfio_pci:<pattern> <module>` line.
struct VfioAlias {
  std::string pattern;  // "vfio_pci:v000015B3d0000101Esv*sd*bc*sc*i*" (fnmatch(3) syntax)
  std::string driver;   // the driver the module registers: vfio-pci for vfio_pci, else the module
  unsigned line = 0;    // in modules.alias
};

struct VfioDriverCatalog {
  std::string source;  // the modules.alias read, as a person types it
  std::vector<VfioAlias> aliases;
  // Set when modules.alias could not be read: why ("open ...: No such file (ENOENT)").
  std::optional<std::string> unreadable;
  // Every module some alias line names: a driver that is none of these is no module at all.
  std::set<std::string> modules;
  // Lines that say `alias vfio_pci:` but are not `alias PATTERN MODULE` ("FILE:LINE: ...").
  std::vector<std::string> problems;

  // vfio-pci, or a driver with a `vfio_pci:` alias (when modules.alias could not be read: a
  // driver named <name>_vfio_pci, as every variant in Linux is).
  bool is_vfio_driver(std::string_view driver) const;
  // The most specific alias matching the device: the fewest wildcards, then the most literal
  // characters, then the driver's name (so the choice never depends on the file's order).
  // None when none matches (a kernel without vfio_pci's catch-all alias).
  const VfioAlias* best_match(const PciIds& ids) const;
};

// The vfio_pci: aliases of a modules.alias text. Never fails: other lines are not ours to judge.
VfioDriverCatalog parse_modules_alias(std::string_view text, std::string source);

// The device's modalias as a vfio driver's alias sees it: the kernel's "pci:v...i.." (see
// drivers/pci/pci-sysfs.c, modalias_show) with "vfio_pci:" for "pci:".
std::string vfio_modalias(const PciIds& ids);

// Marks the devices bound, or overridden, to a vfio variant driver, and keeps the catalog on
// the snapshot for the planner.
void note_vfio_drivers(HostSnapshot& host, VfioDriverCatalog catalog);

}  // namespace vfio
