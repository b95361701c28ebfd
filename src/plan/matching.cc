#include "plan/matching.h"

namespace vfio {

bool matches(const DeviceMatch& match, const PciDevice& pci) {
  if (match.address && *match.address != pci.address) return false;
  if (match.vendor && *match.vendor != pci.ids.vendor) return false;
  if (match.device && *match.device != pci.ids.device) return false;
  if (match.class_prefix && !match.class_prefix->matches(pci.ids.class_code)) return false;
  if (match.subsystem_vendor && *match.subsystem_vendor != pci.ids.subsystem_vendor) return false;
  if (match.subsystem_device && *match.subsystem_device != pci.ids.subsystem_device) return false;
  return true;
}

}  // namespace vfio
