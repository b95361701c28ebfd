// What the planner's parts share (make_plan.cc runs them in order): what the manifests ask of
// each IOMMU group, a group's observed members, and the blocks found on the way. Internal to
// src/plan.
#pragma once

#include <map>
#include <optional>
#include <set>
#include <string>
#include <variant>
#include <vector>

#include "manifest/desired_state.h"
#include "observe/host_snapshot.h"
#include "plan/plan.h"

namespace vfio::planning {

struct Pick {
  std::size_t assignment;  // index into DesiredState::assignments
  const PciDevice* device;
};

using Block = Blocker;

// What the manifests ask of one IOMMU group.
struct GroupIntent {
  std::vector<Pick> picks;
  std::vector<std::size_t> askers;  // assignments whose address names a member it cannot pick
  std::vector<Block> blocks;        // reasons found while resolving (count, conflicts, ...)
  std::vector<std::string> explain;
};

// Step 1's result: each group's intent, the changes for what is in no group (blocked), and
// groups that assignments of two owners ask for (manifest errors, Plan::manifest_conflicts).
struct Intents {
  std::map<unsigned, GroupIntent> by_group;
  // SR-IOV PFs whose VF count an assignment sets (`vfs`), by the PF's group.
  std::map<unsigned, GroupIntent> pfs_by_group;
  std::vector<GroupChange> groupless;
  // Manifest errors only the host reveals: two owners asking for one group; `vfs` for a device
  // that is not an SR-IOV PF, past its sriov_totalvfs, or set twice for one PF.
  std::vector<Diagnostic> manifest_errors;
};

// A group's members as observed, split the way every decision needs them.
struct Members {
  std::vector<const PciDevice*> endpoints;
  std::vector<const PciDevice*> bridges;
  std::vector<PciAddress> vanished;  // listed by the group, gone from the device list
};

// What a group decision reads; all of it outlives the plan's making.
struct PlanInputs {
  PlanInputs(const DesiredState& desired_, const HostSnapshot& host_, const OwnershipRecord& owned_,
             const PlanOptions& options_);

  const Assignment& assignment(std::size_t i) const { return desired.assignments[i]; }
  // "gpu0 (gpus.yaml:4:5)"
  std::string who(std::size_t i) const;
  // The observed device of a planned one (always there: plans are made of observed devices).
  const PciDevice& device(const PlannedDevice& p) const { return *host.find(p.address); }
  // The group's members from its listing and from the devices' iommu_group links, which may
  // disagree if the host changed while it was observed.
  Members members_of(unsigned group) const;

  const DesiredState& desired;
  const HostSnapshot& host;
  const OwnershipRecord& owned;
  const PlanOptions& options;
  std::map<unsigned, std::vector<PciAddress>> linked_to_group;
};

// A device as the plan shows it, before = after.
PlannedDevice unchanged(const PciDevice& d, DeviceRole role);
// The vfio driver a claim gives a device, and why.
struct DriverFor {
  std::string driver;  // "vfio-pci", "mlx5_vfio_pci"
  // Only `driver` will do. Not for vfio-pci: a device on any vfio driver (a variant too) is
  // claimed already, and stays where it is.
  bool exact = false;
  std::string reason;  // empty for the default
  bool satisfied_by(const PciDevice& d) const;
};
// Step 2's driver choice (choose_driver.cc): from the `driver:` of the assignment that selects
// `p` (a companion: vfio-pci, or per device under the group's first assignment's `auto`), or
// why there is none to give.
std::variant<DriverFor, Block> driver_for(const PlanInputs& in, const PlannedDevice& p,
                                          const GroupIntent& intent);

// Marks `c` blocked by the first block; the others go to its explanation.
void block(GroupChange& c, const std::vector<Block>& blocks);

// Step 1 (resolve_assignments.cc): each assignment's match resolved to endpoints on this host,
// gathered by IOMMU group; what cannot be (no device, no group, count) is blocked.
Intents resolve_assignments(const PlanInputs& in);

// Step 2 (decide_group.cc): claim / release / adopt / noop, or blocked with the reason.
GroupChange decide_group(const PlanInputs& in, unsigned group, const GroupIntent& intent);
// A release of `c`'s endpoints (also a prune's), or noop, or blocked.
GroupChange decide_release(const PlanInputs& in, GroupChange c, bool listed);

// SR-IOV (decide_vfs.cc): the VF count of the PFs an assignment's `vfs` picks in `group`: set
// (a count change), noop, blocked; or, once the VFs are claimed, VF autoprobe back as it was.
// `taken_over` gains the VFs of every PF whose count is to change, planned or blocked: they
// are that change's alone, so no other change of the plan (a prune) touches them.
GroupChange decide_vfs(const PlanInputs& in, unsigned group, const GroupIntent& pfs,
                       std::set<PciAddress>& taken_over);
// The PFs of the run's owners whose `vfs` no manifest names any more: given back their count,
// autoprobe and VF drivers. `taken_over` gains their VFs, as above.
void plan_vf_restores(const PlanInputs& in, const Intents& intents,
                      std::vector<GroupChange>& changes, std::set<PciAddress>& taken_over);

}  // namespace vfio::planning

namespace vfio::planning {

// Last step (plan_scope.cc): a narrow run (PlanScope) keeps the changes it may make and moves
// the rest to `plan.deferred`, saying why (the Device scope drops other groups unsaid).
void limit_to_scope(Plan& plan, const PlanScope& scope);

}  // namespace vfio::planning
