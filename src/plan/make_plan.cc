// The planner: (desired state, observed host, ownership record) -> Plan. No I/O of any kind.
//
// 1. Resolve each assignment's match to endpoints on this host (count must hold).
// 2. Gather what each IOMMU group is asked for; a group is the unit of change.
// 3. Decide per group: claim / release / adopt / noop, or blocked with the reason.
// 4. Prune: groups this tool bound that no manifest names any more are released.
#include <algorithm>
#include <map>
#include <set>

#include <fmt/format.h>

#include "plan/fingerprint.h"
#include "plan/matching.h"
#include "plan/plan.h"
#include "sysfs/kernel_names.h"

namespace vfio {
namespace {

constexpr std::string_view kVfioPci = kVfioPciDriver;

bool on_vfio(const PciDevice& d) {
  return d.driver && *d.driver == kVfioPci;
}
bool overridden_to_vfio(const PciDevice& d) {
  return d.driver_override && *d.driver_override == kVfioPci;
}

// "0000:01:00.1 [10de:22ba] (snd_hda_intel)"
std::string label(const PciDevice& d) {
  return fmt::format("{} [{:04x}:{:04x}] ({})", d.address.str(), d.ids.vendor, d.ids.device,
                     d.driver ? *d.driver : "no driver");
}

std::string list_addresses(const std::vector<const PciDevice*>& devices) {
  constexpr std::size_t kShown = 8;
  std::vector<std::string> shown;
  for (std::size_t i = 0; i < devices.size() && i < kShown; ++i) {
    shown.push_back(devices[i]->address.str());
  }
  std::string text = fmt::format("{}", fmt::join(shown, ", "));
  if (devices.size() > kShown) text += fmt::format(" and {} more", devices.size() - kShown);
  return text;
}

struct Pick {
  std::size_t assignment;  // index into DesiredState::assignments
  const PciDevice* device;
};

struct Block {
  BlockReason reason;
  std::string message;
};

// What the manifests ask of one IOMMU group.
struct GroupIntent {
  std::vector<Pick> picks;
  std::vector<Block> blocks;  // reasons found while resolving (count, conflicts, ...)
  std::vector<std::string> explain;
};

// A group's members as observed, split the way every decision needs them.
struct Members {
  std::vector<const PciDevice*> endpoints;
  std::vector<const PciDevice*> bridges;
  std::vector<PciAddress> vanished;  // listed by the group, gone from the device list
};

class Planner {
 public:
  Planner(const DesiredState& desired, const HostSnapshot& host, const OwnershipRecord& owned,
          const PlanOptions& options)
      : desired_(desired), host_(host), owned_(owned), options_(options) {
    for (const auto& d : host_.devices) {
      if (d.iommu_group) linked_to_group_[*d.iommu_group].push_back(d.address);
    }
  }

  Plan run() {
    Plan plan;
    plan.fingerprint = fingerprint(host_);
    if (!host_.iommu_active()) {
      plan.unusable =
          "no IOMMU is active on this host, so no device can be passed through: enable VT-d "
          "(Intel) or AMD-Vi (AMD) in the firmware and boot with intel_iommu=on or amd_iommu=on";
      return plan;
    }
    if (!host_.vfio_pci_loaded && !host_.vfio_pci_loadable.value_or(false)) {
      plan.unusable =
          "vfio-pci is not loaded and its module cannot be loaded for this kernel: install the "
          "kernel's vfio-pci module (CONFIG_VFIO_PCI)";
      return plan;
    }
    resolve();
    for (const auto& [group, intent] : intents_) plan.changes.push_back(plan_group(group, intent));
    plan_prunes(plan.changes);
    std::stable_sort(plan.changes.begin(), plan.changes.end(),
                     [](const GroupChange& a, const GroupChange& b) {
                       // Numbered groups first, in order; group-less entries keep manifest order.
                       if (a.group && b.group) return *a.group < *b.group;
                       return a.group.has_value() && !b.group.has_value();
                     });
    for (auto& change : groupless_) plan.changes.push_back(std::move(change));
    return plan;
  }

 private:
  const Assignment& assignment(std::size_t i) const { return desired_.assignments[i]; }

  std::string who(std::size_t i) const {
    return fmt::format("{} ({})", assignment(i).name, assignment(i).location.str());
  }

  bool vanished_while_observed(const PciAddress& address) const {
    return std::any_of(host_.findings.begin(), host_.findings.end(), [&](const Finding& f) {
      return f.kind == Finding::Kind::DeviceVanished && f.device == address;
    });
  }

  // A change for devices outside any group (or for nothing at all), blocked.
  void block_groupless(std::size_t i, BlockReason reason, std::string message,
                       const PciDevice* device) {
    GroupChange c;
    c.action = GroupAction::Blocked;
    c.assignment = assignment(i).name;
    c.blocked_by = reason;
    c.reason = std::move(message);
    if (device) c.devices.push_back(unchanged(*device, DeviceRole::Selected));
    c.explain.push_back(fmt::format("{} asks for {}", who(i), assignment(i).match.describe()));
    groupless_.push_back(std::move(c));
  }

  static PlannedDevice unchanged(const PciDevice& d, DeviceRole role) {
    PlannedDevice p;
    p.address = d.address;
    p.ids = d.ids;
    p.names = d.names;
    p.role = role;
    p.before = Binding{d.driver, d.driver_override};
    p.after = p.before;
    return p;
  }

  std::vector<const PciDevice*> matches_of(std::size_t i) {
    const Assignment& a = assignment(i);
    std::vector<const PciDevice*> matched;
    if (a.match.address) {
      const PciDevice* d = host_.find(*a.match.address);
      if (!d) {
        const bool vanished = vanished_while_observed(*a.match.address);
        block_groupless(i, vanished ? BlockReason::Vanished : BlockReason::NotFound,
                        vanished
                            ? fmt::format("{}: {} vanished while the host was observed; run again",
                                          a.name, a.match.address->str())
                            : fmt::format("{}: there is no device {} on this host", a.name,
                                          a.match.address->str()),
                        nullptr);
        return {};
      }
      if (d->kind != DeviceKind::Endpoint) {
        std::string message = fmt::format(
            "{}: {} is a {}; vfio-pci binds only endpoints (select the devices behind it)", a.name,
            label(*d), to_string(d->kind));
        if (d->iommu_group) {
          intents_[*d->iommu_group].blocks.push_back({BlockReason::NotAnEndpoint, message});
          intents_[*d->iommu_group].explain.push_back(
              fmt::format("{} selects {} by {}", who(i), d->address.str(), a.match.describe()));
        } else {
          block_groupless(i, BlockReason::NotAnEndpoint, std::move(message), d);
        }
        return {};
      }
      matched.push_back(d);
    } else {
      // Bridges never match a vendor or class pattern: they are never ours to bind.
      for (const auto& d : host_.devices) {
        if (d.kind == DeviceKind::Endpoint && matches(a.match, d)) matched.push_back(&d);
      }
    }
    return matched;
  }

  void resolve() {
    std::map<PciAddress, std::vector<std::size_t>> pickers;
    for (std::size_t i = 0; i < desired_.assignments.size(); ++i) {
      const Assignment& a = assignment(i);
      std::vector<const PciDevice*> matched = matches_of(i);
      if (matched.empty() && !a.match.address) {
        if (a.count) {
          block_groupless(i, BlockReason::CountMismatch,
                          fmt::format("{}: {} selects no device, but count is {}", a.name,
                                      a.match.describe(), *a.count),
                          nullptr);
        } else {
          block_groupless(
              i, BlockReason::NoMatch,
              fmt::format("{}: {} selects no device on this host", a.name, a.match.describe()),
              nullptr);
        }
        continue;
      }
      std::optional<Block> count_block;
      if (a.count && matched.size() != *a.count) {
        count_block =
            Block{BlockReason::CountMismatch,
                  fmt::format("{}: {} selects {} device{} ({}), but count is {}", a.name,
                              a.match.describe(), matched.size(), matched.size() == 1 ? "" : "s",
                              list_addresses(matched), *a.count)};
      }
      for (const PciDevice* d : matched) {
        if (!d->iommu_group) {
          block_groupless(i, BlockReason::NoGroup,
                          fmt::format("{}: {} is in no IOMMU group (the IOMMU does not translate "
                                      "it), so it cannot be passed through",
                                      a.name, label(*d)),
                          d);
          continue;
        }
        pickers[d->address].push_back(i);
        GroupIntent& intent = intents_[*d->iommu_group];
        intent.picks.push_back({i, d});
        intent.explain.push_back(fmt::format("{} selects {} by {}{}", who(i), d->address.str(),
                                             a.match.describe(),
                                             a.count ? fmt::format(" (count {})", *a.count) : ""));
        if (count_block) intent.blocks.push_back(*count_block);
      }
    }
    for (const auto& [address, who_picked] : pickers) {
      if (who_picked.size() < 2) continue;
      const PciDevice* d = host_.find(address);
      std::vector<std::string> names;
      for (std::size_t i : who_picked) names.push_back(who(i));
      intents_[*d->iommu_group].blocks.push_back(
          {BlockReason::Conflict, fmt::format("{} is selected by {}: each device may be named by "
                                              "one assignment only",
                                              address.str(), fmt::join(names, " and "))});
    }
  }

  Members members_of(unsigned group) const {
    std::set<PciAddress> addresses;
    if (auto it = host_.groups.find(group); it != host_.groups.end()) {
      addresses.insert(it->second.members.begin(), it->second.members.end());
    }
    if (auto it = linked_to_group_.find(group); it != linked_to_group_.end()) {
      addresses.insert(it->second.begin(), it->second.end());
    }
    Members m;
    for (const auto& address : addresses) {
      const PciDevice* d = host_.find(address);
      if (!d)
        m.vanished.push_back(address);
      else if (d->kind == DeviceKind::Endpoint)
        m.endpoints.push_back(d);
      else
        m.bridges.push_back(d);
    }
    return m;
  }

  GroupChange plan_group(unsigned group, const GroupIntent& intent) const {
    GroupChange c;
    c.group = group;
    c.explain = intent.explain;
    std::size_t first = desired_.assignments.size();
    std::set<PciAddress> picked;
    std::set<WantedState> states;
    for (const auto& p : intent.picks) {
      first = std::min(first, p.assignment);
      picked.insert(p.device->address);
      states.insert(assignment(p.assignment).state);
    }
    if (first < desired_.assignments.size()) c.assignment = assignment(first).name;

    const Members m = members_of(group);
    for (const PciDevice* d : m.endpoints) {
      const bool selected = picked.count(d->address) > 0;
      c.devices.push_back(unchanged(*d, selected ? DeviceRole::Selected : DeviceRole::Companion));
      if (!selected) {
        c.explain.push_back(
            fmt::format("{} shares IOMMU group {} with what was selected", label(*d), group));
      }
    }
    for (const PciDevice* b : m.bridges) {
      c.bridges.push_back(b->address);
      c.explain.push_back(fmt::format(
          "{} is a {} in the group: left alone (vfio-pci cannot bind it, and it does not stop "
          "the group from being used)",
          label(*b), to_string(b->kind)));
    }

    if (!intent.blocks.empty()) {
      block(c, intent.blocks);
      return c;
    }
    if (!m.vanished.empty()) {
      std::vector<std::string> gone;
      for (const auto& a : m.vanished) gone.push_back(a.str());
      block(c,
            {{BlockReason::Vanished, fmt::format("{} of IOMMU group {} vanished while the host was "
                                                 "observed; run again",
                                                 fmt::join(gone, ", "), group)}});
      return c;
    }
    if (states.size() > 1) {
      std::vector<std::string> wants;
      for (const auto& p : intent.picks) {
        wants.push_back(fmt::format(
            "{} wants {} on {}", assignment(p.assignment).name, p.device->address.str(),
            assignment(p.assignment).state == WantedState::Vfio ? "vfio-pci" : "the host"));
      }
      block(c, {{BlockReason::Conflict,
                 fmt::format("IOMMU group {} is wanted both ways ({}); a group moves as one", group,
                             fmt::join(wants, ", "))}});
      return c;
    }
    const bool listed = std::any_of(intent.picks.begin(), intent.picks.end(), [&](const Pick& p) {
      return assignment(p.assignment).companions == Companions::Listed;
    });
    if (*states.begin() == WantedState::Vfio) return plan_claim(std::move(c), intent, listed);
    return plan_release(std::move(c), listed);
  }

  static void block(GroupChange& c, const std::vector<Block>& blocks) {
    c.action = GroupAction::Blocked;
    c.blocked_by = blocks.front().reason;
    c.reason = blocks.front().message;
    for (std::size_t i = 1; i < blocks.size(); ++i) {
      c.explain.push_back("also: " + blocks[i].message);
    }
  }

  const PciDevice& device(const PlannedDevice& p) const { return *host_.find(p.address); }

  // The `force` reason that covers a device: its own assignment's, or for a companion, that of
  // any assignment that pulled it in.
  std::optional<std::string> force_for(const PlannedDevice& p, const GroupIntent& intent) const {
    for (const auto& pick : intent.picks) {
      const Assignment& a = assignment(pick.assignment);
      if (!a.force) continue;
      if (p.role == DeviceRole::Companion || pick.device->address == p.address) return a.force;
    }
    return std::nullopt;
  }

  // "0000:01:00.0 [10de:2684] (vfio-pci): in use by pid 4242 (qemu-system-x86), ..." for the
  // first endpoint of the change whose group a process holds open.
  std::optional<std::string> held_open(const GroupChange& c) const {
    for (const auto& p : c.devices) {
      const PciDevice& d = device(p);
      for (const auto& h : d.hazards) {
        if (h.kind == Hazard::Kind::HeldOpen) return fmt::format("{}: {}", label(d), h.detail);
      }
    }
    return std::nullopt;
  }

  // A hazard as a refusal: what was found, and what to do about it.
  static Block refusal(const PciDevice& d, const Hazard& h) {
    switch (h.kind) {
      case Hazard::Kind::NetworkInUse:
        return {BlockReason::NetworkInUse,
                fmt::format("{}: {}: the host's network goes through it; move that traffic off it "
                            "first (take the interface down, remove its addresses and routes, or "
                            "take it out of its bridge or bond)",
                            label(d), h.detail)};
      case Hazard::Kind::StorageInUse:
        return {BlockReason::StorageInUse,
                fmt::format("{}: {}: the host uses these disks; unmount them, swapoff, or stop the "
                            "LVM volume group, RAID array or dm device on them first",
                            label(d), h.detail)};
      case Hazard::Kind::Console:
      case Hazard::Kind::HeldOpen:  // refused before any overridable hazard: never met here
        break;
    }
    return {BlockReason::Console,
            fmt::format("{}: {}: taking it can leave the host without a console; move the "
                        "console to another display (fbcon=map:) or a serial console first",
                        label(d), h.detail)};
  }

  GroupChange plan_claim(GroupChange c, const GroupIntent& intent, bool listed) const {
    std::vector<const PlannedDevice*> companions;
    for (const auto& p : c.devices) {
      if (p.role == DeviceRole::Companion) companions.push_back(&p);
    }
    if (listed && !companions.empty()) {
      const PciDevice& d = device(*companions.front());
      block(c, {{BlockReason::PartialGroup,
                 fmt::format("companions: listed, but {} shares IOMMU group {} and no assignment "
                             "names it: the group would be left partly on host drivers and could "
                             "not be used; assign it state vfio too, or use companions: auto",
                             label(d), *c.group)}});
      return c;
    }
    const bool all_on_vfio = std::all_of(c.devices.begin(), c.devices.end(),
                                         [&](const auto& p) { return on_vfio(device(p)); });
    // A claim that would write into a group a process holds open: not even `force` (a rollback
    // would unbind from vfio-pci and hang, and so can reading the held members' bindings).
    if (!all_on_vfio) {
      if (auto held = held_open(c)) {
        block(c, {{BlockReason::HeldOpen,
                   fmt::format("{}; claiming the rest of IOMMU group {} would write to a group in "
                               "use (and a rollback would hang): stop that process first (force "
                               "does not override this)",
                               *held, *c.group)}});
        return c;
      }
    }
    // Safety refusals, overridable by `force`.
    std::vector<Block> refusals;
    std::vector<std::string> forced;
    for (const auto& p : c.devices) {
      const PciDevice& d = device(p);
      std::vector<Block> found;
      if (d.boot_vga.value_or(false)) {
        found.push_back({BlockReason::BootDisplay,
                         fmt::format("{} is the firmware's boot display (boot_vga=1): taking it "
                                     "can leave the host without a console; keep it for the host "
                                     "or make another GPU the boot display in the firmware",
                                     label(d))});
      }
      for (const auto& h : d.hazards) {
        if (h.kind == Hazard::Kind::HeldOpen) continue;  // above
        found.push_back(refusal(d, h));
      }
      if (found.empty()) continue;
      if (auto reason = force_for(p, intent)) {
        for (const auto& f : found) {
          forced.push_back(fmt::format("forced (\"{}\"): {}", *reason, f.message));
        }
        c.forced = *reason;
      } else {
        refusals.insert(refusals.end(), found.begin(), found.end());
      }
    }
    c.explain.insert(c.explain.end(), forced.begin(), forced.end());
    if (!refusals.empty()) {
      refusals.front().message +=
          fmt::format("; or add force: \"<reason>\" to {} to take it anyway", c.assignment);
      block(c, refusals);
      return c;
    }

    if (all_on_vfio) {
      if (const OwnedGroup* owned = owned_.find(*c.group)) {
        c.action = GroupAction::Noop;
        c.reason = owned->how == OwnedGroup::How::Bound
                       ? fmt::format("already on vfio-pci (claimed by this tool for {})",
                                     owned->assignment)
                       : fmt::format("already on vfio-pci (adopted for {})", owned->assignment);
      } else {
        c.action = GroupAction::Adopt;
        c.reason = "every endpoint is already on vfio-pci: adopted, nothing is written";
      }
      return c;
    }
    unsigned moving = 0;
    for (auto& p : c.devices) {
      if (on_vfio(device(p))) continue;
      p.after = Binding{std::string(kVfioPci), std::string(kVfioPci)};
      ++moving;
    }
    c.action = GroupAction::Claim;
    c.reason = fmt::format("{} endpoint{} to vfio-pci", moving, moving == 1 ? "" : "s");
    return c;
  }

  // Everything in the group on vfio-pci (or overridden to it) goes back to the host, and so
  // does a driverless endpoint this tool recorded with a driver: a release that stopped after
  // its unbind (a crash, a write that hung) left it so.
  GroupChange plan_release(GroupChange c, bool listed) const {
    const OwnedGroup* owned = owned_.find(*c.group);
    std::vector<PlannedDevice*> leaving;
    for (auto& p : c.devices) {
      const PciDevice& d = device(p);
      const OwnedDevice* record = owned ? owned->find(p.address) : nullptr;
      const bool stranded = !d.driver && record && record->original_driver;
      if (on_vfio(d) || overridden_to_vfio(d) || stranded) leaving.push_back(&p);
    }
    if (leaving.empty()) {
      c.action = GroupAction::Noop;
      c.reason = "already on host drivers: nothing to release";
      return c;
    }
    for (const PlannedDevice* p : leaving) {
      if (listed && p->role == DeviceRole::Companion) {
        block(c, {{BlockReason::PartialGroup,
                   fmt::format("companions: listed, but {} shares IOMMU group {} and no "
                               "assignment names it; name it too, or use companions: auto",
                               label(device(*p)), *c.group)}});
        return c;
      }
    }
    // Not overridable: the unbind would sleep in the kernel until the holder lets go.
    if (auto held = held_open(c)) {
      block(c, {{BlockReason::HeldOpen,
                 fmt::format("{}; releasing it would block until that process lets go: stop the "
                             "VM (or whatever holds it) first, then run again (force does not "
                             "override this)",
                             *held)}});
      return c;
    }
    for (PlannedDevice* p : leaving) {
      const PciDevice& d = device(*p);
      p->after.override = std::nullopt;
      const OwnedDevice* record = owned ? owned->find(p->address) : nullptr;
      if (record) {
        p->after.driver = record->original_driver;  // none: it had no driver, and stays so
      } else if (on_vfio(d)) {
        p->after.driver = std::nullopt;
        p->any_host_driver = true;
      }  // else: on a host driver with a stale override; only the override goes
    }
    c.action = GroupAction::Release;
    c.reason = fmt::format("{} endpoint{} back to host drivers", leaving.size(),
                           leaving.size() == 1 ? "" : "s");
    return c;
  }

  void plan_prunes(std::vector<GroupChange>& changes) const {
    for (const auto& [group, record] : owned_.groups) {
      if (record.how != OwnedGroup::How::Bound || intents_.count(group)) continue;
      const Members m = members_of(group);
      if (m.endpoints.empty()) continue;  // the group is gone (a rescan renumbered it)
      GroupChange c;
      c.group = group;
      c.assignment = record.assignment;
      for (const PciDevice* d : m.endpoints)
        c.devices.push_back(unchanged(*d, DeviceRole::Selected));
      for (const PciDevice* b : m.bridges) c.bridges.push_back(b->address);
      c.explain.push_back(
          fmt::format("this tool bound IOMMU group {} for {}, which no manifest names any more",
                      group, record.assignment));
      if (!options_.prune) {
        c.action = GroupAction::Noop;
        c.reason = fmt::format("bound for {}, no longer in any manifest; kept (--no-prune)",
                               record.assignment);
        changes.push_back(std::move(c));
        continue;
      }
      GroupChange release = plan_release(std::move(c), false);
      if (release.action == GroupAction::Release) {
        release.reason =
            fmt::format("{} is no longer in any manifest: {}", record.assignment, release.reason);
      }
      if (release.action != GroupAction::Noop) changes.push_back(std::move(release));
    }
  }

  const DesiredState& desired_;
  const HostSnapshot& host_;
  const OwnershipRecord& owned_;
  const PlanOptions& options_;
  // Devices by the group their iommu_group link names (the group's own listing may disagree if
  // the host changed while it was observed; members_of() takes both).
  std::map<unsigned, std::vector<PciAddress>> linked_to_group_;
  std::map<unsigned, GroupIntent> intents_;
  std::vector<GroupChange> groupless_;
};

}  // namespace

Plan make_plan(const DesiredState& desired, const HostSnapshot& host, const OwnershipRecord& owned,
               const PlanOptions& options) {
  return Planner(desired, host, owned, options).run();
}

}  // namespace vfio
