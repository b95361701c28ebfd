#include "plan/matching.h"

#include <fmt/format.h>

namespace vfio {

bool matches(const DeviceMatch& match, const PciDevice& pci) {
  if (match.address && *match.address != pci.address) return false;
  return guard_mismatches(match, pci).empty();
}

std::vector<KeyMismatch> guard_mismatches(const DeviceMatch& match, const PciDevice& pci) {
  std::vector<KeyMismatch> out;
  auto id = [&](const char* key, const std::optional<uint16_t>& wanted, uint16_t found) {
    if (wanted && *wanted != found) {
      out.push_back({key, fmt::format("{:04x}", *wanted), fmt::format("{:04x}", found)});
    }
  };
  id("vendor", match.vendor, pci.ids.vendor);
  id("device", match.device, pci.ids.device);
  if (match.class_prefix && !match.class_prefix->matches(pci.ids.class_code)) {
    out.push_back({"class",
                   fmt::format("0x{:0{}x}", match.class_prefix->value, match.class_prefix->digits),
                   fmt::format("0x{:06x}", pci.ids.class_code)});
  }
  id("subsystem-vendor", match.subsystem_vendor, pci.ids.subsystem_vendor);
  id("subsystem-device", match.subsystem_device, pci.ids.subsystem_device);
  return out;
}

}  // namespace vfio
