// Owners in the planner: a run prunes and forgets only what its owners hold, never takes a group
// another owner holds (not even forced), and two owners asking for one group is a manifest error.
#define BOOST_TEST_MODULE plan_owners
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

// gpu-server: GPU4 (group 14) and GPU5 (group 16) are on vfio-pci; GPU0 (group 6) on nvidia.
OwnedGroup held(unsigned group, OwnedGroup::How how, const char* assignment, const char* owner,
                std::vector<OwnedDevice> devices = {}) {
  OwnedGroup g{group, how, assignment, std::move(devices), false};
  g.owner = owner;
  return g;
}

OwnershipRecord boot_and_sandbox() {
  OwnershipRecord owned;
  owned.groups[14] = held(14, OwnedGroup::How::Bound, "gpu4", "boot",
                          {OwnedDevice{addr("0000:86:00.0"), "nvidia", std::nullopt}});
  owned.groups[16] = held(16, OwnedGroup::How::Bound, "scratch", "sandbox-7",
                          {OwnedDevice{addr("0000:87:00.0"), "nvidia", std::nullopt}});
  return owned;
}

}  // namespace

BOOST_AUTO_TEST_CASE(another_owners_group_is_refused_either_way_and_force_does_not_help) {
  Host host("gpu-server");
  const OwnershipRecord owned = boot_and_sandbox();
  for (WantedState state : {WantedState::Vfio, WantedState::Host}) {
    Plan p = host.plan(
        desired({A("gpu", state).owner("sandbox-8").address("0000:86:00.0").force("mine")}), owned);
    const GroupChange& c = change_for(p, 14);
    BOOST_TEST((c.action == GroupAction::Blocked));
    BOOST_TEST((c.blocked_by == BlockReason::OwnedByOther));
    BOOST_TEST(!c.forced);
    BOOST_TEST(c.owner == "sandbox-8");
    BOOST_TEST_REQUIRE(c.held_by.has_value());
    BOOST_TEST(c.held_by->owner == "boot");
    BOOST_TEST(c.held_by->assignment == "gpu4");
    BOOST_TEST(contains(c.reason, "but owner boot holds it (bound for its assignment gpu4)"),
               c.reason);
    BOOST_TEST(contains(c.reason, "owner boot releases it first"), c.reason);
    BOOST_TEST(contains(c.reason, "force does not override this"), c.reason);
    BOOST_TEST(contains(c.reason, state == WantedState::Vfio ? "on vfio-pci" : "back on the host"),
               c.reason);
    // The run speaks only for sandbox-8: neither boot's nor sandbox-7's groups are touched.
    BOOST_TEST(p.changes.size() == 1u);
  }
  BOOST_TEST(!is_safety_refusal(BlockReason::OwnedByOther));
  BOOST_TEST(to_string(BlockReason::OwnedByOther) == "owned-by-other");
}

BOOST_AUTO_TEST_CASE(the_holding_owner_finds_its_group_unchanged_under_its_name) {
  Host host("gpu-server");
  Plan p =
      host.plan(desired({A("gpu4").owner("boot").address("0000:86:00.0")}), boot_and_sandbox());
  const GroupChange& c = change_for(p, 14);
  BOOST_TEST((c.action == GroupAction::Noop));
  BOOST_TEST(c.reason == "already on vfio-pci (claimed by this tool for gpu4 of owner boot)");
  // boot is spoken for: sandbox-7's group is not boot's to prune.
  BOOST_TEST(p.changes.size() == 1u);
}

BOOST_AUTO_TEST_CASE(an_owner_with_nothing_assigned_releases_exactly_its_own_groups) {
  Host host("gpu-server");
  const OwnershipRecord owned = boot_and_sandbox();
  Plan p = host.plan(desired({}, {"sandbox-7"}), owned);
  BOOST_TEST_REQUIRE(p.changes.size() == 1u);
  const GroupChange& c = change_for(p, 16);
  BOOST_TEST((c.action == GroupAction::Release));
  BOOST_TEST(c.owner == "sandbox-7");
  BOOST_TEST(contains(c.reason, "scratch of owner sandbox-7 is no longer in any manifest"),
             c.reason);

  // An owner that holds nothing prunes nothing; nor does a set that speaks for no owner at all
  // (settings-only files).
  BOOST_TEST(host.plan(desired({}, {"sandbox-9"}), owned).changes.empty());
  DesiredState settings_only;
  BOOST_TEST(host.plan(settings_only, owned).changes.empty());
}

BOOST_AUTO_TEST_CASE(claims_and_adoptions_are_made_for_the_asking_owner) {
  Host host("gpu-server");
  Plan p = host.plan(desired({A("gpu0").owner("sandbox-7").address("0000:18:00.0"),
                              A("gpu5").owner("sandbox-7").address("0000:87:00.0")}));
  BOOST_TEST((change_for(p, 6).action == GroupAction::Claim));
  BOOST_TEST(change_for(p, 6).owner == "sandbox-7");
  BOOST_TEST(!change_for(p, 6).held_by);
  BOOST_TEST((change_for(p, 16).action == GroupAction::Adopt));
  BOOST_TEST(change_for(p, 16).owner == "sandbox-7");
}

BOOST_AUTO_TEST_CASE(two_owners_asking_for_one_group_is_a_manifest_error_at_both_places) {
  Host host("gpu-server");
  // One by address, the other by ids matching all eight GPUs: they meet in group 6.
  A first = A("gpu0").owner("boot").address("0000:18:00.0");
  A later = A("all-gpus").owner("sandbox-8").ids(0x10de, 0x2331);
  later.a.location = {"sandbox-8.yaml", 7, 5};
  Plan p = host.plan(desired({first, later}));
  BOOST_TEST(p.changes.empty());
  BOOST_TEST_REQUIRE(p.manifest_conflicts.size() == 1u);
  const Diagnostic& d = p.manifest_conflicts[0];
  BOOST_TEST(d.location.str() == "sandbox-8.yaml:7:5");
  BOOST_TEST(contains(d.message,
                      "assignment 'all-gpus' of owner sandbox-8 and assignment 'gpu0' "
                      "of owner boot (at boot.yaml:3:5) both ask for IOMMU group 6"),
             d.message);
  BOOST_TEST((d.problem == ManifestProblem::Invalid));

  // The same owner twice is the planner's usual conflict, not a manifest error.
  Plan same = host.plan(desired({A("gpu0").address("0000:18:00.0"), A("all").ids(0x10de, 0x2331)}));
  BOOST_TEST(same.manifest_conflicts.empty());
  BOOST_TEST((change_for(same, 6).blocked_by == BlockReason::Conflict));
}

// A group the record holds but that is back on its host driver (someone gave it back by hand):
// the entry is forgotten, or it would keep every other owner from the group for good.
BOOST_AUTO_TEST_CASE(a_held_group_found_on_the_host_is_forgotten) {
  Host host("gpu-server");
  OwnershipRecord owned;
  owned.groups[6] = held(6, OwnedGroup::How::Bound, "gpu0", "boot",
                         {OwnedDevice{addr("0000:18:00.0"), "nvidia", std::nullopt}});
  Plan pruned = host.plan(desired({}, {"boot"}), owned);
  BOOST_TEST((change_for(pruned, 6).action == GroupAction::Forget));
  BOOST_TEST(contains(change_for(pruned, 6).reason, "already on host drivers"));
  BOOST_TEST(!pruned.has_changes());

  Plan asked = host.plan(
      desired({A("gpu0", WantedState::Host).owner("boot").address("0000:18:00.0")}), owned);
  BOOST_TEST((change_for(asked, 6).action == GroupAction::Forget));
  BOOST_TEST(contains(change_for(asked, 6).reason, "no longer held for gpu0 of owner boot"),
             change_for(asked, 6).reason);
}

// A bound group none of whose devices is left (removed, or renumbered by a rescan) has nothing to
// give back: it is forgotten, or its number would later stand for other devices.
BOOST_AUTO_TEST_CASE(a_bound_group_whose_devices_are_gone_is_forgotten) {
  Host host("gpu-server");
  OwnershipRecord owned;
  owned.groups[99] = held(99, OwnedGroup::How::Bound, "gone", "boot",
                          {OwnedDevice{addr("0000:99:00.0"), "nvidia", std::nullopt}});
  Plan p = host.plan(desired({}, {"boot"}), owned);
  BOOST_TEST_REQUIRE(p.changes.size() == 1u);
  BOOST_TEST((change_for(p, 99).action == GroupAction::Forget));
  BOOST_TEST(contains(change_for(p, 99).reason, "no device of the group is left"));
  BOOST_TEST((change_for(host.plan(desired({}, {"boot"}), owned, PlanOptions{false}), 99).action ==
              GroupAction::Noop));
}
