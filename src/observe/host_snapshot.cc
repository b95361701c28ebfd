#include "observe/host_snapshot.h"

#include <algorithm>

namespace vfio {

std::string_view to_string(DeviceKind kind) {
  switch (kind) {
    case DeviceKind::Endpoint:
      return "endpoint";
    case DeviceKind::Bridge:
      return "bridge";
    case DeviceKind::CardBusBridge:
      return "cardbus-bridge";
  }
  return "unknown";
}

const PciDevice* HostSnapshot::find(const PciAddress& address) const {
  auto it = std::lower_bound(devices.begin(), devices.end(), address,
                             [](const PciDevice& d, const PciAddress& a) { return d.address < a; });
  return it != devices.end() && it->address == address ? &*it : nullptr;
}

}  // namespace vfio
