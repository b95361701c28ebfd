// The planner's refusals in words: what was found, and what a person can do about it. Kept apart
// from the decisions (decide_group.cc, resolve_assignments.cc) so that each wording is written
// once and the decisions read as decisions. Internal to src/plan.
#pragma once

#include <string>
#include <vector>

#include "manifest/desired_state.h"
#include "observe/host_snapshot.h"
#include "plan/matching.h"
#include "plan/planning_parts.h"

namespace vfio::planning {

// "0000:01:00.1 [10de:22ba] (snd_hda_intel)"
std::string label(const PciDevice& d);
// "0000:01:00.0, 0000:02:00.0 and 3 more"
std::string list_addresses(const std::vector<const PciDevice*>& devices);

// Resolving a match.
Block no_such_device(const Assignment& a);
Block vanished_device(const Assignment& a);
Block no_match(const Assignment& a);
Block count_mismatch(const Assignment& a, const std::vector<const PciDevice*>& matched);
Block not_an_endpoint(const Assignment& a, const PciDevice& d);
Block not_as_described(const Assignment& a, const PciDevice& d,
                       const std::vector<KeyMismatch>& mismatches);
Block no_iommu_group(const Assignment& a, const PciDevice& d);
Block picked_twice(const PciAddress& address, const std::vector<std::string>& who);

// Deciding a group.
Block vanished_members(unsigned group, const std::vector<PciAddress>& gone);
Block wanted_both_ways(unsigned group, const std::vector<std::string>& wants);
// `taken`: the members no assignment names that a claim would take from their host drivers.
Block unlisted_companions_for_claim(const std::vector<const PciDevice*>& taken, unsigned group);
Block unlisted_companion_for_release(const PciDevice& companion, unsigned group);
// `held`: "<device label>: <hazard detail>" of the held endpoint.
Block held_for_claim(const std::string& held, unsigned group);
Block held_for_release(const std::string& held);
// `unknown`: "<device label>: <hazard detail>" of an endpoint whose holders cannot be seen.
Block holders_unknown(const std::string& unknown, bool claim);
// `who`: the asking assignment, "sandbox (s.yaml:3:5)" of owner `asker`.
Block owned_by_other(const Holder& holder, unsigned group, const std::string& who,
                     const std::string& asker, WantedState wanted);
// The manifest error of two owners asking for one group: `later` at its place, naming `first`.
Diagnostic two_owners(const Assignment& later, const Assignment& first, unsigned group);

// SR-IOV (`vfs`): manifest errors only the host reveals, each at the assignment's `vfs:`.
Diagnostic not_a_pf(const Assignment& a, const PciDevice& d);
Diagnostic too_many_vfs(const Assignment& a, const PciDevice& pf);
Diagnostic vfs_asked_twice(const Assignment& later, const Assignment& first, const PciDevice& pf);
// A PF whose driver cannot set its VF count (vfio-pci, or none).
Block sriov_unconfigurable(const PciDevice& pf);
// A VF that a count change would remove is someone else's, or in use.
Block vf_held_by_other(const PciDevice& pf, const PciDevice& vf, const OwnedGroup& holder);
Block vf_in_use(const PciDevice& pf, const PciDevice& vf, const Block& why);

// Safety refusals, overridable by `force`.
Block boot_display(const PciDevice& d);
Block hazard_refusal(const PciDevice& d, const Hazard& h);  // not HeldOpen, NodeOpen
// The warning of a claim that takes `d` while a process holds one of its nodes (NodeOpen `h`).
std::string node_open_warning(const PciDevice& d, const Hazard& h);
// The advice added to the first refusal of a group.
std::string force_advice(const std::string& assignment);

}  // namespace vfio::planning
