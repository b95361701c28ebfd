// OwnershipRecord: what earlier runs of this tool did, as the planner needs to know it.
//
// The apply engine keeps it in the state directory (the journal); the planner only reads it:
// a group this tool bound and that no manifest names any more is released (pruned), and a group
// it adopted is released only when a manifest says `state: host`.
#pragma once

#include <map>
#include <optional>
#include <string>
#include <vector>

#include "sysfs/pci_address.h"

namespace vfio {

struct OwnedDevice {
  PciAddress address{0, 0, 0, 0};
  std::optional<std::string> original_driver;    // none: it had no driver
  std::optional<std::string> original_override;  // none: "(null)"
};

struct OwnedGroup {
  enum class How { Bound, Adopted };
  unsigned group = 0;
  How how = How::Bound;
  std::string assignment;  // the assignment that asked for it
  // Bound: each endpoint this tool moved, with what it had before. Endpoints that were on
  // vfio-pci before the run are not listed (releasing them may pick any host driver).
  std::vector<OwnedDevice> devices;
  // A transaction on the group began and has not ended: the run stopped (crashed, was killed)
  // in the middle. The devices listed are still what they had before, so the next run can
  // finish the claim or release the group back to exactly that.
  bool in_flight = false;

  const OwnedDevice* find(const PciAddress& address) const {
    for (const auto& d : devices) {
      if (d.address == address) return &d;
    }
    return nullptr;
  }
};

struct OwnershipRecord {
  std::map<unsigned, OwnedGroup> groups;  // by IOMMU group number

  const OwnedGroup* find(unsigned group) const {
    auto it = groups.find(group);
    return it == groups.end() ? nullptr : &it->second;
  }
};

}  // namespace vfio
