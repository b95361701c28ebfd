#include "plan/refusal_text.h"

#include <fmt/format.h>
#include <fmt/ranges.h>

namespace vfio::planning {

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

Block no_such_device(const Assignment& a) {
  return {BlockReason::NotFound,
          fmt::format("{}: there is no device {} on this host", a.name, a.match.address->str())};
}

Block vanished_device(const Assignment& a) {
  return {BlockReason::Vanished,
          fmt::format("{}: {} vanished while the host was observed; run again", a.name,
                      a.match.address->str()),
          *a.match.address};
}

Block no_match(const Assignment& a) {
  if (a.count) {
    return {BlockReason::CountMismatch, fmt::format("{}: {} selects no device, but count is {}",
                                                    a.name, a.match.describe(), *a.count)};
  }
  return {BlockReason::NoMatch,
          fmt::format("{}: {} selects no device on this host", a.name, a.match.describe())};
}

Block count_mismatch(const Assignment& a, const std::vector<const PciDevice*>& matched) {
  return {BlockReason::CountMismatch,
          fmt::format("{}: {} selects {} device{} ({}), but count is {}", a.name,
                      a.match.describe(), matched.size(), matched.size() == 1 ? "" : "s",
                      list_addresses(matched), *a.count)};
}

Block not_an_endpoint(const Assignment& a, const PciDevice& d) {
  return {
      BlockReason::NotAnEndpoint,
      fmt::format("{}: {} is a {}; vfio-pci binds only endpoints (select the devices behind it)",
                  a.name, label(d), to_string(d.kind)),
      d.address};
}

Block not_as_described(const Assignment& a, const PciDevice& d,
                       const std::vector<KeyMismatch>& mismatches) {
  std::vector<std::string> keys;
  for (const auto& m : mismatches) {
    keys.push_back(fmt::format("{} is {} here, the manifest says {}", m.key, m.device, m.manifest));
  }
  return {BlockReason::NotAsDescribed,
          fmt::format("{}: {} is not the device the manifest describes ({}): the slot holds "
                      "another device (a hardware change, or a typo); correct the address or the "
                      "ids in the manifest (force does not override this)",
                      a.name, label(d), fmt::join(keys, "; ")),
          d.address};
}

Block no_iommu_group(const Assignment& a, const PciDevice& d) {
  return {BlockReason::NoGroup,
          fmt::format("{}: {} is in no IOMMU group (the IOMMU does not translate it), so it "
                      "cannot be passed through",
                      a.name, label(d)),
          d.address};
}

Block picked_twice(const PciAddress& address, const std::vector<std::string>& who) {
  return {BlockReason::Conflict,
          fmt::format("{} is selected by {}: each device may be named by one assignment only",
                      address.str(), fmt::join(who, " and ")),
          address};
}

Block vanished_members(unsigned group, const std::vector<PciAddress>& gone) {
  std::vector<std::string> addresses;
  for (const auto& a : gone) addresses.push_back(a.str());
  return {BlockReason::Vanished,
          fmt::format("{} of IOMMU group {} vanished while the host was observed; run again",
                      fmt::join(addresses, ", "), group)};
}

Block wanted_both_ways(unsigned group, const std::vector<std::string>& wants) {
  return {BlockReason::Conflict,
          fmt::format("IOMMU group {} is wanted both ways ({}); a group moves as one", group,
                      fmt::join(wants, ", "))};
}

Block unlisted_companions_for_claim(const std::vector<const PciDevice*>& taken, unsigned group) {
  std::vector<std::string> members;
  for (const PciDevice* d : taken) {
    members.push_back(d->driver ? fmt::format("{} would be taken from {}", label(*d), *d->driver)
                                : fmt::format("{} would be bound to vfio-pci", label(*d)));
  }
  const bool one = taken.size() == 1;
  return {BlockReason::PartialGroup,
          fmt::format("companions: listed, but IOMMU group {} has {} no assignment names ({}): "
                      "without {} the group could not be used; assign {} state vfio too, or use "
                      "companions: auto",
                      group, one ? "a member" : "members", fmt::join(members, "; "),
                      one ? "it" : "them", one ? "it" : "them")};
}

Block unlisted_companion_for_release(const PciDevice& companion, unsigned group) {
  return {BlockReason::PartialGroup,
          fmt::format("companions: listed, but {} shares IOMMU group {} and no assignment names "
                      "it; name it too, or use companions: auto",
                      label(companion), group),
          companion.address};
}

Block held_for_claim(const std::string& held, unsigned group) {
  return {BlockReason::HeldOpen,
          fmt::format("{}; claiming the rest of IOMMU group {} would write to a group in use (and "
                      "a rollback would hang): stop that process first (force does not override "
                      "this)",
                      held, group)};
}

Block held_for_release(const std::string& held) {
  return {BlockReason::HeldOpen,
          fmt::format("{}; releasing it would block until that process lets go: stop the VM (or "
                      "whatever holds it) first, then run again (force does not override this)",
                      held)};
}

Block holders_unknown(const std::string& unknown, bool claim) {
  return {BlockReason::HoldersUnknown,
          fmt::format("{}; {} it could block in the kernel if a VM holds it: run where /proc is "
                      "the host's and readable (as root, --proc-root /proc; in a container, with "
                      "the host's PID namespace), then again (force does not override this)",
                      unknown, claim ? "claiming the rest of its group" : "releasing")};
}

Block owned_by_other(const Holder& holder, unsigned group, const std::string& who,
                     const std::string& asker, WantedState wanted) {
  return {BlockReason::OwnedByOther,
          fmt::format("{} of owner {} wants IOMMU group {} {}, but owner {} holds it ({} for its "
                      "assignment {}): one owner at a time; owner {} releases it first (by "
                      "applying its manifests without {}), then run again (force does not "
                      "override this)",
                      who, asker, group,
                      wanted == WantedState::Vfio ? "on vfio-pci" : "back on the host",
                      holder.owner, holder.how == OwnedGroup::How::Bound ? "bound" : "adopted",
                      holder.assignment, holder.owner, holder.assignment)};
}

Diagnostic two_owners(const Assignment& later, const Assignment& first, unsigned group) {
  return {
      later.location,
      fmt::format("assignment '{}' of owner {} and assignment '{}' of owner {} (at {}) both "
                  "ask for IOMMU group {}: a group has one owner; leave it to one of them",
                  later.name, later.owner, first.name, first.owner, first.location.str(), group),
      ManifestProblem::Invalid};
}

Diagnostic not_a_pf(const Assignment& a, const PciDevice& d) {
  const std::string what =
      d.physfn ? fmt::format("is a VF of {}: match its PF, which gets the VFs", d.physfn->str())
               : std::string("has no SR-IOV capability (no sriov_totalvfs)");
  return {a.vfs_location,
          fmt::format("assignment '{}' asks for {} VFs of each device it matches, but {} {}",
                      a.name, *a.vfs, label(d), what),
          ManifestProblem::Invalid};
}

Diagnostic too_many_vfs(const Assignment& a, const PciDevice& pf) {
  return {a.vfs_location,
          fmt::format("'vfs' is {}, but {} can carry at most {} VFs (sriov_totalvfs)", *a.vfs,
                      label(pf), pf.sriov->total_vfs),
          ManifestProblem::Invalid};
}

Diagnostic vfs_asked_twice(const Assignment& later, const Assignment& first, const PciDevice& pf) {
  return {later.vfs_location,
          fmt::format("assignment '{}' and assignment '{}' (at {}) both set the VF count of {}: "
                      "a PF has one count; leave it to one of them",
                      later.name, first.name, first.vfs_location.str(), label(pf)),
          ManifestProblem::Invalid};
}

Block sriov_unconfigurable(const PciDevice& pf) {
  if (pf.driver) {
    return {BlockReason::SriovUnconfigurable,
            fmt::format("{} is on {}, which does not set VF counts here (vfio-pci would need "
                        "its own SR-IOV support, enable_sriov, which this tool does not use): "
                        "give the PF back to its host driver, then run again",
                        label(pf), *pf.driver)};
  }
  return {BlockReason::SriovUnconfigurable,
          fmt::format("{} has no driver, and only the PF's host driver sets its VF count: load "
                      "it (modprobe), then run again",
                      label(pf)),
          pf.address};
}

Block vf_held_by_other(const PciDevice& pf, const PciDevice& vf, const OwnedGroup& holder) {
  return {BlockReason::OwnedByOther,
          fmt::format("changing the VF count of {} would remove {}, which owner {} holds (for "
                      "its assignment {}): owner {} releases it first, then run again (force "
                      "does not override this)",
                      label(pf), label(vf), holder.owner, holder.assignment, holder.owner),
          vf.address};
}

Block vf_in_use(const PciDevice& pf, const PciDevice& vf, const Block& why) {
  return {why.reason,
          fmt::format("changing the VF count of {} would remove {}: {}", label(pf),
                      vf.address.str(), why.message),
          vf.address};
}

Block boot_display(const PciDevice& d) {
  return {BlockReason::BootDisplay,
          fmt::format("{} is the firmware's boot display (boot_vga=1): taking it can leave the "
                      "host without a console; keep it for the host or make another GPU the boot "
                      "display in the firmware",
                      label(d)),
          d.address};
}

Block hazard_refusal(const PciDevice& d, const Hazard& h) {
  switch (h.kind) {
    case Hazard::Kind::NetworkInUse:
      return {BlockReason::NetworkInUse,
              fmt::format("{}: {}: the host's network goes through it; move that traffic off it "
                          "first (take the interface down, remove its addresses and routes, or "
                          "take it out of its bridge or bond)",
                          label(d), h.detail),
              d.address};
    case Hazard::Kind::StorageInUse:
      return {BlockReason::StorageInUse,
              fmt::format("{}: {}: the host uses these disks; unmount them, swapoff, or stop the "
                          "LVM volume group, RAID array or dm device on them first",
                          label(d), h.detail),
              d.address};
    case Hazard::Kind::GpuInUse:
      return {BlockReason::GpuInUse,
              fmt::format("{}: {}: the host is using this GPU (a display server, a compute job); "
                          "stop it or move it to another GPU first",
                          label(d), h.detail),
              d.address};
    case Hazard::Kind::BootDisplay:
      return boot_display(d);
    case Hazard::Kind::Console:
    case Hazard::Kind::HeldOpen:  // refused before any overridable hazard: never met here
    case Hazard::Kind::HoldersUnknown:
    case Hazard::Kind::NodeOpen:  // a warning, never a refusal
      break;
  }
  return {BlockReason::Console,
          fmt::format("{}: {}: taking it can leave the host without a console; move the console "
                      "to another display (fbcon=map:) or a serial console first",
                      label(d), h.detail),
          d.address};
}

std::string node_open_warning(const PciDevice& d, const Hazard& h) {
  const std::string driver = d.driver.value_or("its driver");
  if (!h.unbind_waits)
    return fmt::format("{}: {}: it loses the device when the claim unbinds {}", label(d), h.detail,
                       driver);
  return fmt::format(
      "{}: {}: the unbind from {} waits until it lets go (an audio server does when the card "
      "goes away; a program that does not leaves the claim failed with that write unfinished)",
      label(d), h.detail, driver);
}

std::string force_advice(const std::string& assignment) {
  return fmt::format("; or add force: \"<reason>\" to {} to take it anyway", assignment);
}

}  // namespace vfio::planning
