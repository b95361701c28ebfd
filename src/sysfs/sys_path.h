// SysPath: a path below the sysfs root, built from checked components.
//
// A component is never empty, ".", ".." and never holds '/' or NUL, so no name read from a
// manifest, the journal or sysfs itself (a driver name from a `driver` link, say) can make a
// path that leaves the root. The builders in `paths` are how the rest of the code names files.
#pragma once

#include <compare>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include "sysfs/pci_address.h"

namespace vfio {

class InvalidPathComponent : public std::invalid_argument {
 public:
  using std::invalid_argument::invalid_argument;
};

class SysPath {
 public:
  SysPath() = default;  // the sysfs root itself

  // Throws InvalidPathComponent when `component` is not a single safe name.
  SysPath operator/(std::string_view component) const;

  static bool is_valid_component(std::string_view component);

  const std::vector<std::string>& components() const { return components_; }
  bool empty() const { return components_.empty(); }
  const std::string& leaf() const { return components_.back(); }
  SysPath parent() const;

  // Relative form, "bus/pci/devices/0000:01:00.0/driver"; "" for the root.
  std::string str() const;

  auto operator<=>(const SysPath&) const = default;

 private:
  std::vector<std::string> components_;
};

// Every sysfs location the tool uses, in one place.
namespace paths {
SysPath pci_devices();                          // bus/pci/devices
SysPath pci_device(const PciAddress& address);  // bus/pci/devices/<bdf>
SysPath pci_device_file(const PciAddress& address, std::string_view name);
SysPath pci_drivers();                        // bus/pci/drivers
SysPath pci_driver(std::string_view driver);  // bus/pci/drivers/<driver>
SysPath pci_driver_file(std::string_view driver, std::string_view name);  // .../<driver>/unbind
SysPath drivers_probe();                                                  // bus/pci/drivers_probe
SysPath pci_rescan();                                                     // bus/pci/rescan
SysPath iommu_groups();                                                   // kernel/iommu_groups
SysPath iommu_group_devices(unsigned group);  // kernel/iommu_groups/N/devices
SysPath iommu_units();                        // class/iommu
SysPath module(std::string_view module);      // module/<module>
}  // namespace paths

}  // namespace vfio
