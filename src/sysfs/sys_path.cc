#include "sysfs/sys_path.h"

#include <fmt/format.h>

namespace vfio {

bool SysPath::is_valid_component(std::string_view c) {
  // NAME_MAX: a longer name cannot exist in sysfs, and refusing it keeps paths bounded.
  constexpr std::size_t kNameMax = 255;
  return !c.empty() && c.size() <= kNameMax && c != "." && c != ".." &&
         c.find('/') == std::string_view::npos && c.find('\0') == std::string_view::npos;
}

SysPath SysPath::operator/(std::string_view component) const {
  if (!is_valid_component(component)) {
    throw InvalidPathComponent(fmt::format(
        "refusing sysfs path component '{}' below '{}': a name may not be empty, '.', '..', or "
        "contain '/' or NUL",
        component, str()));
  }
  SysPath out = *this;
  out.components_.emplace_back(component);
  return out;
}

SysPath SysPath::parent() const {
  SysPath out = *this;
  if (!out.components_.empty()) out.components_.pop_back();
  return out;
}

// Every sysfs read and every error names its path, so this is on the hot path of a scan: one
// allocation, no formatting machinery.
std::string SysPath::str() const {
  std::size_t length = components_.empty() ? 0 : components_.size() - 1;
  for (const auto& c : components_) length += c.size();
  std::string out;
  out.reserve(length);
  for (std::size_t i = 0; i < components_.size(); ++i) {
    if (i > 0) out += '/';
    out += components_[i];
  }
  return out;
}

namespace paths {

SysPath pci_devices() {
  return SysPath() / "bus" / "pci" / "devices";
}
SysPath pci_device(const PciAddress& address) {
  return pci_devices() / address.str();
}
SysPath pci_device_file(const PciAddress& address, std::string_view name) {
  return pci_device(address) / name;
}
SysPath pci_drivers() {
  return SysPath() / "bus" / "pci" / "drivers";
}
SysPath pci_driver(std::string_view driver) {
  return pci_drivers() / driver;
}
SysPath pci_driver_file(std::string_view driver, std::string_view name) {
  return pci_driver(driver) / name;
}
SysPath drivers_probe() {
  return SysPath() / "bus" / "pci" / "drivers_probe";
}
SysPath pci_rescan() {
  return SysPath() / "bus" / "pci" / "rescan";
}
SysPath iommu_groups() {
  return SysPath() / "kernel" / "iommu_groups";
}
SysPath iommu_group_devices(unsigned group) {
  return iommu_groups() / std::to_string(group) / "devices";
}
SysPath iommu_units() {
  return SysPath() / "class" / "iommu";
}
SysPath module(std::string_view module) {
  return SysPath() / "module" / module;
}

}  // namespace paths
}  // namespace vfio
