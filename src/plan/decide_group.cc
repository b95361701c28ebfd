// Step 2 of the planner: per IOMMU group, claim / release / adopt / noop, or blocked with the
// reason. The words of each refusal are in refusal_text.cc.
#include <algorithm>
#include <set>

#include <fmt/format.h>

#include "plan/planning_parts.h"
#include "plan/refusal_text.h"
#include "sysfs/kernel_names.h"

namespace vfio::planning {
namespace {

// The `force` reason that covers a device: its own assignment's, or for a companion, that of
// any assignment that pulled it in.
std::optional<std::string> force_for(const PlanInputs& in, const PlannedDevice& p,
                                     const GroupIntent& intent) {
  for (const auto& pick : intent.picks) {
    const Assignment& a = in.assignment(pick.assignment);
    if (!a.force) continue;
    if (p.role == DeviceRole::Companion || pick.device->address == p.address) return a.force;
  }
  return std::nullopt;
}

// "0000:01:00.0 [10de:2684] (vfio-pci): in use by pid 4242 (qemu-system-x86), ..." for the
// first endpoint of the change whose group a process holds open; or, with `kind`
// HoldersUnknown, whose holders could not be seen.
std::optional<std::string> held_open(const PlanInputs& in, const GroupChange& c,
                                     Hazard::Kind kind = Hazard::Kind::HeldOpen) {
  for (const auto& p : c.devices) {
    const PciDevice& d = in.device(p);
    for (const auto& h : d.hazards) {
      if (h.kind == kind) return fmt::format("{}: {}", label(d), h.detail);
    }
  }
  return std::nullopt;
}

// A write to a group with a /dev/vfio node that may be held (held open, or nobody can tell),
// refused before anything else: neither can be forced.
std::optional<Block> may_be_held(const PlanInputs& in, const GroupChange& c, bool claim) {
  if (auto held = held_open(in, c)) {
    return claim ? held_for_claim(*held, *c.group) : held_for_release(*held);
  }
  if (auto unknown = held_open(in, c, Hazard::Kind::HoldersUnknown)) {
    return holders_unknown(*unknown, claim);
  }
  return std::nullopt;
}

// The safety refusals that stand for the change's devices; those `force` overrides are noted in
// its explanation instead.
std::vector<Block> safety_refusals(const PlanInputs& in, GroupChange& c,
                                   const GroupIntent& intent) {
  std::vector<Block> refusals;
  std::vector<std::string> forced;
  for (const auto& p : c.devices) {
    const PciDevice& d = in.device(p);
    std::vector<Block> found;
    for (const auto& h : d.hazards) {
      // Refused before, never forced; or a warning only.
      if (h.kind == Hazard::Kind::HeldOpen || h.kind == Hazard::Kind::HoldersUnknown ||
          h.kind == Hazard::Kind::NodeOpen)
        continue;
      found.push_back(hazard_refusal(d, h));
    }
    if (found.empty()) continue;
    if (auto reason = force_for(in, p, intent)) {
      for (const auto& f : found) {
        forced.push_back(fmt::format("forced (\"{}\"): {}", *reason, f.message));
      }
      c.forced = *reason;
    } else {
      refusals.insert(refusals.end(), found.begin(), found.end());
    }
  }
  c.explain.insert(c.explain.end(), forced.begin(), forced.end());
  return refusals;
}

GroupChange decide_claim(const PlanInputs& in, GroupChange c, const GroupIntent& intent,
                         bool listed) {
  // Every reason the claim cannot be made is gathered, so that one run shows them all: fixing
  // one and running again only to meet the next is what a person should not have to do.
  std::vector<Block> blocks;
  if (listed) {
    // Members no assignment names may stay as they are only if they are on vfio-pci already:
    // the claim then takes nothing from a host driver, and they are not recorded as ours.
    std::vector<const PciDevice*> taken;
    for (const auto& p : c.devices) {
      if (p.role != DeviceRole::Companion) continue;
      if (!in.device(p).on_vfio_driver()) {
        taken.push_back(&in.device(p));
      } else {
        c.explain.push_back(
            fmt::format("{} is left as it is: on vfio-pci already, and not named, "
                        "so not this tool's (companions: listed)",
                        label(in.device(p))));
      }
    }
    if (!taken.empty()) blocks.push_back(unlisted_companions_for_claim(taken, *c.group));
  }
  // Each endpoint's vfio driver; a group where each is on it already is adopted (or ours).
  std::vector<DriverFor> drivers;
  for (const auto& p : c.devices) {
    auto chosen = driver_for(in, p, intent);
    if (auto* why_not = std::get_if<Block>(&chosen)) {
      if (!why_not->device) why_not->device = p.address;
      blocks.push_back(std::move(*why_not));
    } else {
      drivers.push_back(std::get<DriverFor>(std::move(chosen)));
    }
  }
  bool all_claimed = drivers.size() == c.devices.size();
  for (std::size_t i = 0; all_claimed && i < c.devices.size(); ++i) {
    all_claimed = drivers[i].satisfied_by(in.device(c.devices[i]));
  }
  // A claim that would write into a group a process holds open: not even `force` (a rollback
  // would unbind from vfio-pci and hang, and so can reading the held members' bindings). The
  // weightiest reason, so the first.
  if (!all_claimed) {
    if (auto held = may_be_held(in, c, /*claim=*/true)) blocks.insert(blocks.begin(), *held);
  }
  if (auto refusals = safety_refusals(in, c, intent); !refusals.empty()) {
    refusals.front().message += force_advice(c.assignment);
    blocks.insert(blocks.end(), refusals.begin(), refusals.end());
  }
  if (!blocks.empty()) {
    block(c, blocks);
    return c;
  }

  if (all_claimed) {
    std::set<std::string> on;  // "vfio-pci", or the variants too
    for (const auto& p : c.devices) on.insert(p.before.driver.value_or(""));
    const std::string drivers_now = fmt::format("{}", fmt::join(on, " and "));
    if (const OwnedGroup* owned = in.owned.find(*c.group)) {
      const std::string holder = held_for(owned->owner, owned->assignment);
      c.action = GroupAction::Noop;
      c.reason =
          owned->how == OwnedGroup::How::Bound
              ? fmt::format("already on {} (claimed by this tool for {})", drivers_now, holder)
              : fmt::format("already on {} (adopted for {})", drivers_now, holder);
    } else {
      c.action = GroupAction::Adopt;
      c.reason =
          fmt::format("every endpoint is already on {}: adopted, nothing is written", drivers_now);
    }
    return c;
  }
  unsigned moving = 0;
  std::set<std::string> targets;
  for (std::size_t i = 0; i < c.devices.size(); ++i) {
    PlannedDevice& p = c.devices[i];
    const PciDevice& d = in.device(p);
    if (drivers[i].satisfied_by(d)) continue;
    p.after = Binding{drivers[i].driver, drivers[i].driver};
    p.driver_reason = drivers[i].reason;
    targets.insert(drivers[i].driver);
    ++moving;
    for (const auto& h : d.hazards) {
      if (h.kind == Hazard::Kind::NodeOpen) c.warnings.push_back(node_open_warning(d, h));
    }
  }
  c.action = GroupAction::Claim;
  c.reason = fmt::format("{} endpoint{} to {}", moving, moving == 1 ? "" : "s",
                         fmt::join(targets, " and "));
  return c;
}

}  // namespace

GroupChange decide_group(const PlanInputs& in, unsigned group, const GroupIntent& intent) {
  GroupChange c;
  c.group = group;
  c.explain = intent.explain;
  std::size_t first = in.desired.assignments.size();
  std::set<PciAddress> picked;
  std::set<WantedState> states;
  for (const auto& p : intent.picks) {
    first = std::min(first, p.assignment);
    picked.insert(p.device->address);
    states.insert(in.assignment(p.assignment).state);
  }
  for (std::size_t asker : intent.askers) first = std::min(first, asker);
  if (first < in.desired.assignments.size()) {
    c.assignment = in.assignment(first).name;
    c.owner = in.assignment(first).owner;
  }
  const OwnedGroup* owned = in.owned.find(group);
  if (owned) c.held_by = Holder::of(*owned);

  const Members m = in.members_of(group);
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
    c.explain.push_back(
        fmt::format("{} is a {} in the group: left alone (vfio-pci cannot bind it, and it does "
                    "not stop the group from being used)",
                    label(*b), to_string(b->kind)));
  }

  // Another owner's group is refused before anything else is said of it: whatever else holds,
  // it is not this owner's to change.
  std::vector<Block> blocks = intent.blocks;
  if (owned && owned->owner != c.owner) {
    const WantedState wanted =
        intent.picks.empty() ? WantedState::Vfio : in.assignment(first).state;
    blocks.insert(blocks.begin(),
                  owned_by_other(*c.held_by, group, in.who(first), c.owner, wanted));
  }
  if (!blocks.empty()) {
    block(c, blocks);
    return c;
  }
  if (!m.vanished.empty()) {
    block(c, {vanished_members(group, m.vanished)});
    return c;
  }
  if (states.size() > 1) {
    std::vector<std::string> wants;
    for (const auto& p : intent.picks) {
      const Assignment& a = in.assignment(p.assignment);
      wants.push_back(fmt::format("{} wants {} on {}", a.name, p.device->address.str(),
                                  a.state == WantedState::Vfio ? "vfio-pci" : "the host"));
    }
    block(c, {wanted_both_ways(group, wants)});
    return c;
  }
  const bool listed = std::any_of(intent.picks.begin(), intent.picks.end(), [&](const Pick& p) {
    return in.assignment(p.assignment).companions == Companions::Listed;
  });
  if (*states.begin() == WantedState::Vfio) return decide_claim(in, std::move(c), intent, listed);
  return decide_release(in, std::move(c), listed);
}

// Everything in the group on vfio-pci (or overridden to it) goes back to the host, and so
// does a driverless endpoint this tool recorded with a driver: a release that stopped after
// its unbind (a crash, a write that hung) left it so.
GroupChange decide_release(const PlanInputs& in, GroupChange c, bool listed) {
  const OwnedGroup* owned = in.owned.find(*c.group);
  std::vector<PlannedDevice*> leaving;
  for (auto& p : c.devices) {
    const PciDevice& d = in.device(p);
    const OwnedDevice* record = owned ? owned->find(p.address) : nullptr;
    const bool stranded = !d.driver && record && record->original_driver;
    if (d.on_vfio_driver() || d.overridden_to_vfio_driver() || stranded) leaving.push_back(&p);
  }
  if (leaving.empty()) {
    c.action = GroupAction::Noop;
    c.reason = "already on host drivers: nothing to release";
    // The record still says it is held (someone gave it back by hand): the entry goes, or it
    // would keep every other owner from it.
    if (owned) {
      c.action = GroupAction::Forget;
      c.reason += fmt::format("; no longer held for {}", held_for(owned->owner, owned->assignment));
    }
    return c;
  }
  // Every reason at once, as for a claim: the holder first (not overridable: the unbind would
  // sleep in the kernel until the holder lets go), then each unnamed companion.
  std::vector<Block> blocks;
  if (auto held = may_be_held(in, c, /*claim=*/false)) blocks.push_back(*held);
  for (const PlannedDevice* p : leaving) {
    if (listed && p->role == DeviceRole::Companion) {
      blocks.push_back(unlisted_companion_for_release(in.device(*p), *c.group));
    }
  }
  if (!blocks.empty()) {
    block(c, blocks);
    return c;
  }
  for (PlannedDevice* p : leaving) {
    const PciDevice& d = in.device(*p);
    p->after.override = std::nullopt;
    const OwnedDevice* record = owned ? owned->find(p->address) : nullptr;
    if (record) {
      p->after.driver = record->original_driver;  // none: it had no driver, and stays so
    } else if (d.on_vfio_driver()) {
      p->after.driver = std::nullopt;
      p->any_host_driver = true;
    }  // else: on a host driver with a stale override; only the override goes
  }
  c.action = GroupAction::Release;
  c.reason = fmt::format("{} endpoint{} back to host drivers", leaving.size(),
                         leaving.size() == 1 ? "" : "s");
  return c;
}

}  // namespace vfio::planning
