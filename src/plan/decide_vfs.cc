// SR-IOV in the planner: a PF's VF count as desired state (an assignment's `vfs`). The PF's
// group gets a SetVfs change while its count is not the one asked for; once it is, the VFs are
// picked like any device (resolve_assignments.cc) and claimed in their own groups, and a last
// SetVfs turns the PF's VF autoprobe back to what it was. A PF no manifest sets any more is
// given back its count, its autoprobe and its VFs' drivers.
#include <algorithm>
#include <set>

#include <fmt/format.h>

#include "plan/planning_parts.h"
#include "plan/refusal_text.h"
#include "sysfs/kernel_names.h"

namespace vfio::planning {
namespace {

// What the PF has now, as the record keeps it before the first change.
OwnedVfs originals_of(const PlanInputs& in, const PciDevice& pf) {
  OwnedVfs v{pf.address, pf.sriov->enabled_vfs, pf.sriov->drivers_autoprobe, {}};
  for (const auto& address : pf.sriov->vfs) {
    const PciDevice* vf = in.host.find(address);
    v.original_drivers.push_back(vf ? vf->driver : std::nullopt);
  }
  return v;
}

// Why the PF's VFs may not be removed now: one is held, in use, or another's. `force` covers
// the safety refusals only, as for any device.
std::vector<Block> removal_blocks(const PlanInputs& in, const PciDevice& pf,
                                  const std::string& owner, const std::optional<std::string>& force,
                                  std::vector<std::string>& explain) {
  std::vector<Block> blocks;
  for (const auto& address : pf.sriov->vfs) {
    const PciDevice* vf = in.host.find(address);
    if (!vf) continue;
    if (vf->iommu_group) {
      if (const OwnedGroup* held = in.owned.find(*vf->iommu_group); held && held->owner != owner) {
        blocks.push_back(vf_held_by_other(pf, *vf, *held));
        continue;
      }
    }
    for (const auto& h : vf->hazards) {
      // A VF's RDMA or other node held: its driver lets go of it (uverbs disassociates).
      if (h.kind == Hazard::Kind::NodeOpen) continue;
      if (h.kind == Hazard::Kind::HeldOpen) {
        blocks.push_back(vf_in_use(pf, *vf, held_for_release(label(*vf) + ": " + h.detail)));
      } else if (h.kind == Hazard::Kind::HoldersUnknown) {
        blocks.push_back(vf_in_use(pf, *vf, holders_unknown(label(*vf) + ": " + h.detail, false)));
      } else if (force) {
        explain.push_back(fmt::format("forced (\"{}\"): {}", *force,
                                      vf_in_use(pf, *vf, hazard_refusal(*vf, h)).message));
      } else {
        blocks.push_back(vf_in_use(pf, *vf, hazard_refusal(*vf, h)));
      }
    }
  }
  return blocks;
}

// "0000:5e:01.0 (iavf), 0000:5e:01.1 (iavf)"
std::string vf_list(const PlanInputs& in, const PciDevice& pf) {
  std::vector<std::string> parts;
  for (const auto& address : pf.sriov->vfs) {
    const PciDevice* vf = in.host.find(address);
    parts.push_back(fmt::format("{} ({})", address.str(),
                                vf && vf->driver ? *vf->driver : std::string("no driver")));
  }
  return parts.empty() ? std::string("none") : fmt::format("{}", fmt::join(parts, ", "));
}

bool all_on_vfio(const PlanInputs& in, const PciDevice& pf) {
  return std::all_of(pf.sriov->vfs.begin(), pf.sriov->vfs.end(), [&](const PciAddress& a) {
    const PciDevice* vf = in.host.find(a);
    return vf && vf->on_vfio_driver();
  });
}

GroupChange base_change(const PlanInputs& in, unsigned group) {
  GroupChange c;
  c.group = group;
  if (const OwnedGroup* held = in.owned.find(group)) {
    c.held_by = Holder::of(*held);
  }
  const Members m = in.members_of(group);
  for (const PciDevice* d : m.endpoints) c.devices.push_back(unchanged(*d, DeviceRole::Selected));
  for (const PciDevice* b : m.bridges) c.bridges.push_back(b->address);
  return c;
}

// The vfio driver a `vfs` assignment's VFs are claimed for, as its change says it.
std::string claimed_for(const Assignment& a) {
  switch (a.driver.kind) {
    case DriverChoice::Kind::Named:
      return a.driver.name;
    case DriverChoice::Kind::Auto:
      return "the vfio driver modules.alias picks (driver: auto)";
    case DriverChoice::Kind::Default:
      break;
  }
  return std::string(kVfioPciDriver);
}

}  // namespace

GroupChange decide_vfs(const PlanInputs& in, unsigned group, const GroupIntent& pfs,
                       std::set<PciAddress>& taken_over) {
  const Assignment& first = in.assignment(pfs.picks.front().assignment);
  GroupChange c = base_change(in, group);
  c.assignment = first.name;
  c.owner = first.owner;
  c.explain = pfs.explain;
  if (!pfs.blocks.empty()) {
    block(c, pfs.blocks);
    return c;
  }
  if (c.held_by && c.held_by->owner != c.owner) {
    block(c, {owned_by_other(*c.held_by, group, in.who(pfs.picks.front().assignment), c.owner,
                             WantedState::Vfio)});
    return c;
  }
  const OwnedGroup* kept = in.owned.find(group);
  std::vector<Block> blocks;
  std::vector<std::string> reasons;
  for (const auto& pick : pfs.picks) {
    const Assignment& a = in.assignment(pick.assignment);
    const PciDevice& pf = *pick.device;
    const OwnedVfs* recorded = kept ? kept->find_vfs(pf.address) : nullptr;
    VfCount v;
    v.pf = pf.address;
    v.from = pf.sriov->enabled_vfs;
    v.to = *a.vfs;
    v.autoprobe_from = pf.sriov->drivers_autoprobe;
    v.record = recorded ? *recorded : originals_of(in, pf);
    v.vfs_before = pf.sriov->vfs;
    if (v.from != v.to) {
      taken_over.insert(v.vfs_before.begin(), v.vfs_before.end());
      if (!pf.driver || pf.on_vfio_driver()) {
        blocks.push_back(sriov_unconfigurable(pf));
        continue;
      }
      auto refused = removal_blocks(in, pf, c.owner, a.force, c.explain);
      if (!refused.empty()) {
        blocks.insert(blocks.end(), refused.begin(), refused.end());
        continue;
      }
      v.autoprobe_to = false;  // until the new VFs are claimed: no host VF driver meets them
      c.explain.push_back(
          fmt::format("the VFs {} has now are removed: {}", pf.address.str(), vf_list(in, pf)));
      reasons.push_back(fmt::format("{}: {} VFs -> {}, then each claimed for {}", pf.address.str(),
                                    v.from, v.to, claimed_for(a)));
      c.vf_counts.push_back(std::move(v));
    } else if (recorded && v.autoprobe_from != recorded->original_autoprobe) {
      if (!all_on_vfio(in, pf)) {
        reasons.push_back(
            fmt::format("{} carries {} VFs; VF autoprobe stays {} until they are "
                        "on vfio-pci",
                        pf.address.str(), v.to, v.autoprobe_from ? "on" : "off"));
        continue;
      }
      v.autoprobe_to = recorded->original_autoprobe;
      reasons.push_back(fmt::format("{}: its {} VFs are on vfio-pci, VF autoprobe back {}",
                                    pf.address.str(), v.to, v.autoprobe_to ? "on" : "off"));
      c.vf_counts.push_back(std::move(v));
    } else {
      reasons.push_back(fmt::format("{} carries {} VFs", pf.address.str(), v.to));
    }
  }
  if (!blocks.empty()) {
    block(c, blocks);
    c.vf_counts.clear();
    return c;
  }
  c.action = c.vf_counts.empty() ? GroupAction::Noop : GroupAction::SetVfs;
  c.reason = fmt::format("{}", fmt::join(reasons, "; "));
  return c;
}

void plan_vf_restores(const PlanInputs& in, const Intents& intents,
                      std::vector<GroupChange>& changes, std::set<PciAddress>& taken_over) {
  for (const auto& [group, record] : in.owned.groups) {
    if (record.vfs.empty() || intents.pfs_by_group.count(group) ||
        !in.desired.speaks_for(record.owner)) {
      continue;
    }
    const std::string holder = held_for(record.owner, record.assignment);
    GroupChange c = base_change(in, group);
    c.assignment = record.assignment;
    c.owner = record.owner;
    c.pruned = true;
    c.explain.push_back(fmt::format(
        "this tool set the VF count of IOMMU group {}'s PF for {}, which no manifest names any "
        "more",
        group, holder));
    if (!in.options.prune) {
      c.action = GroupAction::Noop;
      c.reason =
          fmt::format("VF count set for {}, no longer in any manifest; kept (--no-prune)", holder);
      changes.push_back(std::move(c));
      continue;
    }
    std::vector<Block> blocks;
    std::vector<std::string> reasons;
    for (const auto& kept : record.vfs) {
      const PciDevice* pf = in.host.find(kept.pf);
      if (!pf || !pf->sriov) {
        reasons.push_back(fmt::format("{} is gone: nothing to give back", kept.pf.str()));
        continue;
      }
      VfCount v;
      v.pf = kept.pf;
      v.from = pf->sriov->enabled_vfs;
      v.to = kept.original_count;
      v.autoprobe_from = pf->sriov->drivers_autoprobe;
      v.autoprobe_to = kept.original_autoprobe;
      v.restore = true;
      v.record = kept;
      v.vfs_before = pf->sriov->vfs;
      taken_over.insert(v.vfs_before.begin(), v.vfs_before.end());
      if (v.from != v.to && (!pf->driver || *pf->driver == kVfioPciDriver)) {
        blocks.push_back(sriov_unconfigurable(*pf));
        continue;
      }
      // Its VFs leave vfio-pci either way: removed by a count change, or moved back.
      auto refused = removal_blocks(in, *pf, record.owner, std::nullopt, c.explain);
      if (!refused.empty()) {
        blocks.insert(blocks.end(), refused.begin(), refused.end());
        continue;
      }
      c.explain.push_back(fmt::format("the VFs {} has now {}: {}", pf->address.str(),
                                      v.from != v.to ? "are removed" : "go back",
                                      vf_list(in, *pf)));
      reasons.push_back(fmt::format("{}: back to {} VFs, VF autoprobe {}", kept.pf.str(), v.to,
                                    v.autoprobe_to ? "on" : "off"));
      c.vf_counts.push_back(std::move(v));
    }
    if (!blocks.empty()) {
      block(c, blocks);
      c.vf_counts.clear();
    } else {
      // Nothing left to give back (the PF is gone) is forgetting: the record entry goes.
      c.action = c.vf_counts.empty() ? GroupAction::Forget : GroupAction::SetVfs;
      c.reason =
          fmt::format("{} is no longer in any manifest: {}", holder, fmt::join(reasons, "; "));
    }
    changes.push_back(std::move(c));
  }
}

}  // namespace vfio::planning
