#include "cli/status_hints.h"

namespace vfio::cli {

std::vector<StatusHint> status_hints(const HostSnapshot& snapshot) {
  std::vector<StatusHint> hints;
  if (!snapshot.iommu_active()) {
    hints.push_back({"no-iommu",
                     "No device can be passed through: enable VT-d or AMD-Vi in the firmware and "
                     "boot with intel_iommu=on (Intel) or amd_iommu=on (AMD)."});
  }
  return hints;
}

std::string_view to_string(Finding::Kind kind) {
  switch (kind) {
    case Finding::Kind::Unreadable:
      return "unreadable";
    case Finding::Kind::Malformed:
      return "malformed";
    case Finding::Kind::DeviceVanished:
      return "device-vanished";
    case Finding::Kind::GroupMismatch:
      return "group-mismatch";
    case Finding::Kind::HoldersUnknown:
      return "holders-unknown";
  }
  return "unknown";
}

}  // namespace vfio::cli
