#include "observe/host_snapshot.h"

#include <algorithm>

#include "sysfs/kernel_names.h"

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

std::string_view to_string(Hazard::Kind kind) {
  switch (kind) {
    case Hazard::Kind::HeldOpen:
      return "held-open";
    case Hazard::Kind::NetworkInUse:
      return "network-in-use";
    case Hazard::Kind::StorageInUse:
      return "storage-in-use";
    case Hazard::Kind::Console:
      return "console";
    case Hazard::Kind::HoldersUnknown:
      return "holders-unknown";
    case Hazard::Kind::GpuInUse:
      return "gpu-in-use";
    case Hazard::Kind::NodeOpen:
      return "node-open";
    case Hazard::Kind::BootDisplay:
      return "boot-display";
  }
  return "unknown";
}

const PciDevice* HostSnapshot::find(const PciAddress& address) const {
  auto it = std::lower_bound(devices.begin(), devices.end(), address,
                             [](const PciDevice& d, const PciAddress& a) { return d.address < a; });
  return it != devices.end() && it->address == address ? &*it : nullptr;
}

}  // namespace vfio

namespace vfio {

bool PciDevice::on_vfio_driver() const {
  return (driver && *driver == kVfioPciDriver) || driver_is_vfio_variant;
}

bool PciDevice::overridden_to_vfio_driver() const {
  return (driver_override && *driver_override == kVfioPciDriver) || override_is_vfio_variant;
}

}  // namespace vfio
