// Step 1 of the planner: each assignment's match resolved to endpoints on this host, gathered
// by the IOMMU group they sit in (a group is the unit of change).
#include <algorithm>
#include <map>
#include <set>

#include <fmt/format.h>

#include "plan/matching.h"
#include "plan/planning_parts.h"
#include "plan/refusal_text.h"

namespace vfio::planning {
namespace {

class Resolver {
 public:
  explicit Resolver(const PlanInputs& in) : in_(in) {}

  Intents run() {
    for (std::size_t i = 0; i < in_.desired.assignments.size(); ++i) {
      const Assignment& a = in_.assignment(i);
      std::vector<const PciDevice*> matched = matches_of(i);
      if (matched.empty() && !a.match.address) {
        block_groupless(i, no_match(a), nullptr);
        continue;
      }
      std::optional<Block> count_block;
      if (a.count && matched.size() != *a.count) count_block = count_mismatch(a, matched);
      if (a.vfs) {
        for (const PciDevice* pf : matched) pick_pf(i, *pf, count_block);
        continue;
      }
      for (const PciDevice* d : matched) {
        if (!d->iommu_group) {
          block_groupless(i, no_iommu_group(a, *d), d);
          continue;
        }
        pickers_[d->address].push_back(i);
        GroupIntent& intent = out_.by_group[*d->iommu_group];
        intent.picks.push_back({i, d});
        intent.explain.push_back(fmt::format("{} selects {} by {}{}", in_.who(i), d->address.str(),
                                             a.match.describe(),
                                             a.count ? fmt::format(" (count {})", *a.count) : ""));
        if (count_block) intent.blocks.push_back(*count_block);
      }
    }
    for (const auto& [address, who_picked] : pickers_) {
      if (who_picked.size() < 2) continue;
      std::vector<std::string> names;
      for (std::size_t i : who_picked) names.push_back(in_.who(i));
      out_.by_group[*in_.host.find(address)->iommu_group].blocks.push_back(
          picked_twice(address, names));
    }
    for (const auto& [group, intent] : out_.by_group) find_other_owners(group, intent);
    for (const auto& [group, intent] : out_.pfs_by_group) {
      if (!out_.by_group.count(group)) find_other_owners(group, intent);
    }
    return std::move(out_);
  }

 private:
  // `vfs`: the PF keeps its driver and carries the VFs. While it carries the count asked for,
  // its VFs are picked like any device; while it does not, they are about to be replaced.
  void pick_pf(std::size_t i, const PciDevice& pf, const std::optional<Block>& count_block) {
    const Assignment& a = in_.assignment(i);
    if (!pf.sriov || pf.physfn) {
      out_.manifest_errors.push_back(not_a_pf(a, pf));
      return;
    }
    if (*a.vfs > pf.sriov->total_vfs) {
      out_.manifest_errors.push_back(too_many_vfs(a, pf));
      return;
    }
    if (auto first = pf_setters_.emplace(pf.address, i); !first.second) {
      out_.manifest_errors.push_back(vfs_asked_twice(a, in_.assignment(first.first->second), pf));
      return;
    }
    if (!pf.iommu_group) {
      block_groupless(i, no_iommu_group(a, pf), &pf);
      return;
    }
    GroupIntent& pf_intent = out_.pfs_by_group[*pf.iommu_group];
    pf_intent.picks.push_back({i, &pf});
    pf_intent.explain.push_back(fmt::format("{} sets the VF count of {} by {}{}", in_.who(i),
                                            pf.address.str(), a.match.describe(),
                                            a.count ? fmt::format(" (count {})", *a.count) : ""));
    if (count_block) pf_intent.blocks.push_back(*count_block);
    if (count_block || pf.sriov->enabled_vfs != *a.vfs) return;
    for (const auto& address : pf.sriov->vfs) {
      const PciDevice* vf = in_.host.find(address);
      if (!vf || !vf->iommu_group) continue;  // a VF mid-removal; the next run sees it settled
      pickers_[vf->address].push_back(i);
      GroupIntent& intent = out_.by_group[*vf->iommu_group];
      intent.picks.push_back({i, vf});
      intent.explain.push_back(fmt::format("{} selects {}, VF of {} (vfs {})", in_.who(i),
                                           vf->address.str(), pf.address.str(), *a.vfs));
    }
  }

  bool vanished_while_observed(const PciAddress& address) const {
    return std::any_of(in_.host.findings.begin(), in_.host.findings.end(), [&](const Finding& f) {
      return f.kind == Finding::Kind::DeviceVanished && f.device == address;
    });
  }

  // A change for devices outside any group (or for nothing at all), blocked.
  void block_groupless(std::size_t i, Block why, const PciDevice* device) {
    GroupChange c;
    c.action = GroupAction::Blocked;
    c.assignment = in_.assignment(i).name;
    c.blocked_by = why.reason;
    c.reason = std::move(why.message);
    if (device) c.devices.push_back(unchanged(*device, DeviceRole::Selected));
    c.explain.push_back(
        fmt::format("{} asks for {}", in_.who(i), in_.assignment(i).match.describe()));
    out_.groupless.push_back(std::move(c));
  }

  // A block for the device an address names: in its group (nothing there moves), or on its own.
  void block_at_device(std::size_t i, const PciDevice& d, Block why) {
    if (!d.iommu_group) {
      block_groupless(i, std::move(why), &d);
      return;
    }
    GroupIntent& intent = out_.by_group[*d.iommu_group];
    intent.askers.push_back(i);
    intent.blocks.push_back(std::move(why));
    intent.explain.push_back(fmt::format("{} selects {} by {}", in_.who(i), d.address.str(),
                                         in_.assignment(i).match.describe()));
  }

  std::vector<const PciDevice*> matches_of(std::size_t i) {
    const Assignment& a = in_.assignment(i);
    if (!a.match.address) {
      // Bridges never match a vendor or class pattern: they are never ours to bind.
      std::vector<const PciDevice*> matched;
      for (const auto& d : in_.host.devices) {
        if (d.kind == DeviceKind::Endpoint && matches(a.match, d)) matched.push_back(&d);
      }
      return matched;
    }
    const PciDevice* d = in_.host.find(*a.match.address);
    if (!d) {
      const bool vanished = vanished_while_observed(*a.match.address);
      block_groupless(i, vanished ? vanished_device(a) : no_such_device(a), nullptr);
      return {};
    }
    // The other keys given beside an address guard it: the slot must hold what they describe.
    if (auto mismatched = guard_mismatches(a.match, *d); !mismatched.empty()) {
      block_at_device(i, *d, not_as_described(a, *d, mismatched));
      return {};
    }
    if (d->kind != DeviceKind::Endpoint) {
      block_at_device(i, *d, not_an_endpoint(a, *d));
      return {};
    }
    return {d};
  }

  // Each assignment asking for `group` whose owner is not that of the first one (in manifest
  // order) to ask is a manifest error, reported once.
  void find_other_owners(unsigned group, const GroupIntent& intent) {
    std::set<std::size_t> askers(intent.askers.begin(), intent.askers.end());
    for (const auto& pick : intent.picks) askers.insert(pick.assignment);
    if (askers.empty()) return;
    const Assignment& first = in_.assignment(*askers.begin());
    for (std::size_t i : askers) {
      if (in_.assignment(i).owner != first.owner) {
        out_.manifest_errors.push_back(two_owners(in_.assignment(i), first, group));
      }
    }
  }

  const PlanInputs& in_;
  Intents out_;
  std::map<PciAddress, std::size_t> pf_setters_;  // PF -> the assignment setting its count
  std::map<PciAddress, std::vector<std::size_t>> pickers_;  // device -> assignments picking it
};

}  // namespace

Intents resolve_assignments(const PlanInputs& in) {
  return Resolver(in).run();
}

}  // namespace vfio::planning
