// The planner: (desired state, observed host, ownership record) -> Plan. No I/O of any kind.
//
// 1. Resolve each assignment's match to endpoints on this host, gathered by IOMMU group
//    (resolve_assignments.cc); a group is the unit of change.
// 2. Decide per group: claim / release / adopt / noop, or blocked with the reason
//    (decide_group.cc; the refusals' words are in refusal_text.cc).
// 3. Prune: groups the run's owners hold that no manifest names any more are released, or when
//    adopted forgotten (here).
// 4. A narrow run (the initramfs's, a hot-added device's) keeps only what it may do
//    (plan_scope.cc).
// SR-IOV PFs (an assignment's `vfs`) are decided before the groups (decide_vfs.cc): a VF count
// change removes the PF's VFs, which no other change may then touch.
#include <algorithm>
#include <set>

#include <fmt/format.h>

#include "plan/fingerprint.h"
#include "plan/plan.h"
#include "plan/planning_parts.h"
#include "plan/refusal_text.h"

namespace vfio {
namespace planning {

PlanInputs::PlanInputs(const DesiredState& desired_, const HostSnapshot& host_,
                       const OwnershipRecord& owned_, const PlanOptions& options_)
    : desired(desired_), host(host_), owned(owned_), options(options_) {
  for (const auto& d : host.devices) {
    if (d.iommu_group) linked_to_group[*d.iommu_group].push_back(d.address);
  }
}

std::string PlanInputs::who(std::size_t i) const {
  return fmt::format("{} ({})", assignment(i).name, assignment(i).location.str());
}

Members PlanInputs::members_of(unsigned group) const {
  std::set<PciAddress> addresses;
  if (auto it = host.groups.find(group); it != host.groups.end()) {
    addresses.insert(it->second.members.begin(), it->second.members.end());
  }
  if (auto it = linked_to_group.find(group); it != linked_to_group.end()) {
    addresses.insert(it->second.begin(), it->second.end());
  }
  Members m;
  for (const auto& address : addresses) {
    const PciDevice* d = host.find(address);
    if (!d)
      m.vanished.push_back(address);
    else if (d->kind == DeviceKind::Endpoint)
      m.endpoints.push_back(d);
    else
      m.bridges.push_back(d);
  }
  return m;
}

PlannedDevice unchanged(const PciDevice& d, DeviceRole role) {
  PlannedDevice p;
  p.address = d.address;
  p.ids = d.ids;
  p.role = role;
  p.before = Binding{d.driver, d.driver_override};
  p.after = p.before;
  return p;
}

void block(GroupChange& c, const std::vector<Block>& blocks) {
  c.action = GroupAction::Blocked;
  c.blocked_by = blocks.front().reason;
  c.reason = blocks.front().message;
  c.blockers = blocks;
}

namespace {

// The groups the run's owners hold that none of their assignments names any more: those this
// tool bound are released, those it adopted forgotten (or, with --no-prune, both kept). Other
// owners' groups are not this run's to touch, nor even to show.
void plan_prunes(const PlanInputs& in, const Intents& intents,
                 const std::set<PciAddress>& taken_over, std::vector<GroupChange>& changes) {
  for (const auto& [group, record] : in.owned.groups) {
    if (intents.by_group.count(group) || !in.desired.speaks_for(record.owner)) continue;
    // A PF's VF count is given back by plan_vf_restores; the VFs of a PF whose count is to
    // change or be given back (planned or blocked) are that change's.
    if (!record.vfs.empty() || intents.pfs_by_group.count(group)) continue;
    if (std::any_of(record.devices.begin(), record.devices.end(),
                    [&](const OwnedDevice& d) { return taken_over.count(d.address) > 0; })) {
      continue;
    }
    const std::string holder = held_for(record.owner, record.assignment);
    const bool bound = record.how == OwnedGroup::How::Bound;
    const Members m = in.members_of(group);
    GroupChange c;
    c.group = group;
    c.assignment = record.assignment;
    c.owner = record.owner;
    c.held_by = Holder::of(record);
    c.pruned = true;
    for (const PciDevice* d : m.endpoints) c.devices.push_back(unchanged(*d, DeviceRole::Selected));
    for (const PciDevice* b : m.bridges) c.bridges.push_back(b->address);
    c.explain.push_back(
        fmt::format("this tool {} IOMMU group {} for {}, which no manifest names "
                    "any more",
                    bound ? "bound" : "adopted", group, holder));
    if (!in.options.prune) {
      c.action = GroupAction::Noop;
      c.reason = fmt::format("{} for {}, no longer in any manifest; kept (--no-prune)",
                             bound ? "bound" : "adopted", holder);
      changes.push_back(std::move(c));
      continue;
    }
    if (!bound) {
      // Someone else put it on vfio-pci; this tool only took note. Letting go of it is
      // forgetting: it stays where it is, for any owner to ask for.
      c.action = GroupAction::Forget;
      c.reason = fmt::format(
          "adopted for {}, which no manifest names any more: left as it is, "
          "no longer held",
          holder);
      changes.push_back(std::move(c));
      continue;
    }
    if (m.endpoints.empty()) {
      // Its devices are gone (removed, or a rescan renumbered the groups): nothing is left to
      // give back, and a number kept would later stand for other devices.
      c.action = GroupAction::Forget;
      c.reason = fmt::format(
          "{} is no longer in any manifest, and no device of the group is left: no longer held",
          holder);
      changes.push_back(std::move(c));
      continue;
    }
    GroupChange release = decide_release(in, std::move(c), false);
    if (release.action != GroupAction::Blocked) {
      release.reason = fmt::format("{} is no longer in any manifest: {}", holder, release.reason);
    }
    changes.push_back(std::move(release));
  }
}

}  // namespace
}  // namespace planning

Plan make_plan(const DesiredState& desired, const HostSnapshot& host, const OwnershipRecord& owned,
               const PlanOptions& options) {
  Plan plan;
  plan.fingerprint = fingerprint(host);
  if (!host.iommu_active()) {
    plan.unusable =
        "no IOMMU is active on this host, so no device can be passed through: enable VT-d "
        "(Intel) or AMD-Vi (AMD) in the firmware and boot with intel_iommu=on or amd_iommu=on";
    return plan;
  }
  if (!host.vfio_pci_loaded && !host.vfio_pci_loadable.value_or(false)) {
    plan.unusable =
        "vfio-pci is not loaded and its module cannot be loaded for this kernel: install the "
        "kernel's vfio-pci module (CONFIG_VFIO_PCI)";
    return plan;
  }
  const planning::PlanInputs in(desired, host, owned, options);
  planning::Intents intents = planning::resolve_assignments(in);
  if (!intents.manifest_errors.empty()) {
    plan.manifest_conflicts = std::move(intents.manifest_errors);
    return plan;
  }
  // SR-IOV PFs first: which VFs their count changes take over decides what else may touch them.
  std::set<PciAddress> taken_over;
  for (const auto& [group, pfs] : intents.pfs_by_group) {
    GroupChange c = planning::decide_vfs(in, group, pfs, taken_over);
    if (intents.by_group.count(group)) {
      planning::block(c, {{BlockReason::Conflict,
                           fmt::format("IOMMU group {} holds a PF whose VF count is set, and "
                                       "an assignment also asks for the group itself: a PF "
                                       "that carries VFs stays on its host driver",
                                       group)}});
      c.vf_counts.clear();
    }
    plan.changes.push_back(std::move(c));
  }
  planning::plan_vf_restores(in, intents, plan.changes, taken_over);
  for (const auto& [group, intent] : intents.by_group) {
    if (intents.pfs_by_group.count(group)) continue;
    GroupChange c = planning::decide_group(in, group, intent);
    const bool touches_taken = std::any_of(c.devices.begin(), c.devices.end(), [&](const auto& d) {
      return taken_over.count(d.address) > 0;
    });
    if (touches_taken && c.action != GroupAction::Blocked) {
      planning::block(c, {{BlockReason::Conflict,
                           fmt::format("IOMMU group {} holds a VF whose PF's VF count is "
                                       "changed or given back in this run",
                                       group)}});
    }
    plan.changes.push_back(std::move(c));
  }
  planning::plan_prunes(in, intents, taken_over, plan.changes);
  std::stable_sort(plan.changes.begin(), plan.changes.end(),
                   [](const GroupChange& a, const GroupChange& b) {
                     // Numbered groups first, in order; group-less entries keep manifest order.
                     if (a.group && b.group) return *a.group < *b.group;
                     return a.group.has_value() && !b.group.has_value();
                   });
  for (auto& change : intents.groupless) plan.changes.push_back(std::move(change));
  planning::limit_to_scope(plan, options.scope);
  return plan;
}

}  // namespace vfio
