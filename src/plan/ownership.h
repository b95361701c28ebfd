// OwnershipRecord: what earlier runs of this tool did, as the planner needs to know it.
//
// The apply engine keeps it in the state directory (the journal); the planner only reads it.
// Every group is held by one owner (a manifest file's `owner:`): a group this tool bound that its
// owner's manifests no longer name is released (pruned); one it adopted is then forgotten (left
// on vfio-pci, no longer held); another owner asking for a held group is refused.
#pragma once

#include <map>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "manifest/desired_state.h"
#include "sysfs/pci_address.h"

namespace vfio {

struct OwnedDevice {
  PciAddress address{0, 0, 0, 0};
  std::optional<std::string> original_driver;    // none: it had no driver
  std::optional<std::string> original_override;  // none: "(null)"
  // The vfio variant driver this tool bound it to (`driver:`); none: vfio-pci (and every record
  // made before variant drivers).
  std::optional<std::string> vfio_driver{};
};

// An SR-IOV PF whose VF count this tool set, with what it had before: releasing it gives the PF
// back its count and VF autoprobe, and each VF that existed then its driver.
struct OwnedVfs {
  PciAddress pf{0, 0, 0, 0};
  unsigned original_count = 0;     // sriov_numvfs before
  bool original_autoprobe = true;  // sriov_drivers_autoprobe before
  // VF i's driver before (none: it had none), one per VF that existed.
  std::vector<std::optional<std::string>> original_drivers;

  bool operator==(const OwnedVfs&) const = default;
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
  std::string owner = kDefaultOwner;  // who holds it: the owner of `assignment`
  // The group's SR-IOV PFs whose VF count this tool set (an assignment with `vfs`). The PF
  // itself stays on its host driver, so it is not among `devices`; its VFs' groups are entries
  // of their own.
  std::vector<OwnedVfs> vfs{};

  const OwnedVfs* find_vfs(const PciAddress& pf) const {
    for (const auto& v : vfs) {
      if (v.pf == pf) return &v;
    }
    return nullptr;
  }

  const OwnedDevice* find(const PciAddress& address) const {
    for (const auto& d : devices) {
      if (d.address == address) return &d;
    }
    return nullptr;
  }
  OwnedDevice* find(const PciAddress& address) {
    return const_cast<OwnedDevice*>(std::as_const(*this).find(address));
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
