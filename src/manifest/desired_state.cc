#include "manifest/desired_state.h"

#include <vector>

#include <fmt/format.h>

namespace vfio {

std::string SourceLocation::str() const {
  if (line <= 0) return file;
  return fmt::format("{}:{}:{}", file, line, column);
}

bool DeviceMatch::matches(const PciDevice& d) const {
  return (!address || *address == d.address) && (!vendor || *vendor == d.ids.vendor) &&
         (!device || *device == d.ids.device) &&
         (!class_prefix || class_prefix->matches(d.ids.class_code)) &&
         (!subsystem_vendor || *subsystem_vendor == d.ids.subsystem_vendor) &&
         (!subsystem_device || *subsystem_device == d.ids.subsystem_device);
}

std::string DeviceMatch::describe() const {
  std::vector<std::string> parts;
  if (address) parts.push_back(fmt::format("address {}", address->str()));
  if (vendor) parts.push_back(fmt::format("vendor {:04x}", *vendor));
  if (device) parts.push_back(fmt::format("device {:04x}", *device));
  if (class_prefix) {
    parts.push_back(fmt::format("class 0x{:0{}x}", class_prefix->value, class_prefix->digits));
  }
  if (subsystem_vendor) parts.push_back(fmt::format("subsystem-vendor {:04x}", *subsystem_vendor));
  if (subsystem_device) parts.push_back(fmt::format("subsystem-device {:04x}", *subsystem_device));
  return fmt::format("{}", fmt::join(parts, ", "));
}

}  // namespace vfio
