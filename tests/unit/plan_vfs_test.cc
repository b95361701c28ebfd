// SR-IOV in the planner (issue 14), on the gpu-server example host: the E810 port 0000:5e:00.0
// (group 22, 4 VFs on iavf in groups 100-103, 128 at most) and the ConnectX-6 Dx 0000:d8:00.0
// (group 28, 4 VFs on mlx5_core in groups 110-113, 8 at most).
#define BOOST_TEST_MODULE plan_vfs
#include <boost/test/unit_test.hpp>

#include "plan/plan.h"
#include "plan_support.h"
#include "test_support.h"

using namespace vfio;
using test::A;
using test::addr;
using test::change_for;
using test::contains;
using test::desired;
using Host = test::PlanHost;

namespace {

bool has_group(const Plan& p, unsigned group) {
  for (const auto& c : p.changes) {
    if (c.group == group) return true;
  }
  return false;
}

OwnedVfs e810_originals(unsigned count) {
  return OwnedVfs{addr("0000:5e:00.0"), count, true,
                  std::vector<std::optional<std::string>>(count, std::string("iavf"))};
}

}  // namespace

BOOST_AUTO_TEST_CASE(a_new_count_is_one_change_of_the_pfs_group_and_its_vfs_wait_for_it) {
  Host host("gpu-server");
  Plan p = host.plan(desired({A("e810").address("0000:5e:00.0").vfs(8)}));
  BOOST_TEST(p.manifest_conflicts.empty());
  const GroupChange& c = change_for(p, 22);
  BOOST_TEST((c.action == GroupAction::SetVfs));
  BOOST_TEST(c.assignment == "e810");
  BOOST_TEST_REQUIRE(c.vf_counts.size() == 1u);
  const VfCount& v = c.vf_counts[0];
  BOOST_TEST(v.pf.str() == "0000:5e:00.0");
  BOOST_TEST(v.from == 4u);
  BOOST_TEST(v.to == 8u);
  BOOST_TEST(v.autoprobe_from);
  BOOST_TEST(!v.autoprobe_to);  // off until the new VFs are claimed
  BOOST_TEST(!v.restore);
  BOOST_TEST((v.record == e810_originals(4)));
  BOOST_TEST(v.vfs_before.size() == 4u);
  // The PF stays on ice; the VFs about to be removed are not claimed.
  BOOST_TEST_REQUIRE(c.devices.size() == 1u);
  BOOST_TEST(!c.devices[0].changes());
  for (unsigned g = 100; g < 104; ++g) BOOST_TEST(!has_group(p, g), g);
  BOOST_TEST(p.has_changes());
  BOOST_TEST(p.summary().set_vfs == 1u);
}

BOOST_AUTO_TEST_CASE(the_count_it_has_leaves_the_pf_and_claims_each_vf_in_its_group) {
  Host host("gpu-server");
  Plan p = host.plan(desired({A("cx6").address("0000:d8:00.0").vfs(4)}));
  const GroupChange& pf = change_for(p, 28);
  BOOST_TEST((pf.action == GroupAction::Noop));
  BOOST_TEST(contains(pf.reason, "0000:d8:00.0 carries 4 VFs"), pf.reason);
  for (unsigned g = 110; g < 114; ++g) {
    const GroupChange& vf = change_for(p, g);
    BOOST_TEST((vf.action == GroupAction::Claim), g);
    BOOST_TEST(vf.assignment == "cx6");
  }
}

BOOST_AUTO_TEST_CASE(what_only_the_host_reveals_is_a_manifest_error_at_vfs) {
  Host host("gpu-server");
  auto error_of = [&](std::initializer_list<A> as) {
    Plan p = host.plan(desired(as));
    BOOST_TEST(p.changes.empty());
    BOOST_TEST_REQUIRE(p.manifest_conflicts.size() == 1u);
    BOOST_TEST(p.manifest_conflicts[0].location.str() == "test.yaml:6:10");
    return p.manifest_conflicts[0].message;
  };
  BOOST_TEST(error_of({A("e810").address("0000:5e:00.0").vfs(129)}) ==
             "'vfs' is 129, but 0000:5e:00.0 [8086:1593] (ice) can carry at most 128 VFs "
             "(sriov_totalvfs)");
  BOOST_TEST(contains(error_of({A("gpu").address("0000:18:00.0").vfs(2)}),
                      "0000:18:00.0 [10de:2331] (nvidia) has no SR-IOV capability"));
  BOOST_TEST(contains(error_of({A("vf").address("0000:5e:01.0").vfs(2)}),
                      "is a VF of 0000:5e:00.0: match its PF"));
  BOOST_TEST(
      contains(error_of({A("a").address("0000:5e:00.0").vfs(2), A("b").ids(0x8086, 0x1593).vfs(3)}),
               "both set the VF count of 0000:5e:00.0"));
}

BOOST_AUTO_TEST_CASE(vfs_another_owner_holds_are_not_removed) {
  Host host("gpu-server");
  OwnershipRecord owned;
  owned.groups[101] = OwnedGroup{101, OwnedGroup::How::Bound, "vm-nic", {}, false, "sandbox-7"};
  Plan p = host.plan(desired({A("e810").address("0000:5e:00.0").vfs(8).force("sure")}), owned);
  const GroupChange& c = change_for(p, 22);
  BOOST_TEST((c.action == GroupAction::Blocked));
  BOOST_TEST((c.blocked_by == BlockReason::OwnedByOther));
  BOOST_TEST(contains(c.reason, "would remove 0000:5e:01.1"), c.reason);
  BOOST_TEST(contains(c.reason, "owner sandbox-7 holds"), c.reason);
  BOOST_TEST(c.vf_counts.empty());
}

BOOST_AUTO_TEST_CASE(a_pf_on_vfio_pci_or_on_no_driver_cannot_set_its_count) {
  Host host("gpu-server");
  const PciAddress pf = addr("0000:5e:00.0");
  BOOST_REQUIRE(host.kernel.write(paths::pci_driver_file("ice", "unbind"), pf.str()));
  Plan none = host.plan(desired({A("e810").address("0000:5e:00.0").vfs(8)}));
  BOOST_TEST((change_for(none, 22).blocked_by == BlockReason::SriovUnconfigurable));
  BOOST_TEST(contains(change_for(none, 22).reason, "has no driver"));
  BOOST_REQUIRE(host.kernel.write(paths::pci_device_file(pf, "driver_override"), "vfio-pci"));
  BOOST_REQUIRE(host.kernel.write(paths::drivers_probe(), pf.str()));
  Plan on_vfio = host.plan(desired({A("e810").address("0000:5e:00.0").vfs(8)}));
  BOOST_TEST((change_for(on_vfio, 22).blocked_by == BlockReason::SriovUnconfigurable));
  BOOST_TEST(contains(change_for(on_vfio, 22).reason, "enable_sriov"));
}

BOOST_AUTO_TEST_CASE(a_pf_no_manifest_sets_is_given_back_and_its_vfs_are_that_changes) {
  Host host("gpu-server");
  OwnershipRecord owned;
  owned.groups[22] = OwnedGroup{22, OwnedGroup::How::Bound, "e810", {}, false, "default"};
  owned.groups[22].vfs.push_back(e810_originals(2));
  // A VF group recorded for the same assignment: given back by the PF's change, not pruned.
  owned.groups[100] = OwnedGroup{100,    OwnedGroup::How::Bound,
                                 "e810", {OwnedDevice{addr("0000:5e:01.0"), std::nullopt, {}}},
                                 false,  "default"};
  Plan p = host.plan(desired({}), owned);
  const GroupChange& c = change_for(p, 22);
  BOOST_TEST((c.action == GroupAction::SetVfs));
  BOOST_TEST_REQUIRE(c.vf_counts.size() == 1u);
  BOOST_TEST(c.vf_counts[0].restore);
  BOOST_TEST(c.vf_counts[0].from == 4u);
  BOOST_TEST(c.vf_counts[0].to == 2u);
  BOOST_TEST(c.vf_counts[0].autoprobe_to);
  BOOST_TEST(!has_group(p, 100));
  // No manifest names it: a prune, which apply asks about on a terminal (and JSON says).
  BOOST_TEST(c.pruned);
  // --no-prune keeps it.
  Plan kept = host.plan(desired({}), owned, PlanOptions{false});
  BOOST_TEST((change_for(kept, 22).action == GroupAction::Noop));
  // Named by its manifest (a count set again), it is no prune.
  Plan named = host.plan(desired({A("e810").address("0000:5e:00.0").vfs(2)}), owned);
  BOOST_TEST(!change_for(named, 22).pruned);
}
