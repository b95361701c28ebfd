// SR-IOV applied (issue 14), on the gpu-server example host in the kernel simulator: the E810
// port (0000:5e:00.0, 4 VFs on iavf) asked for 8 VFs keeps ice and carries 8 VFs on vfio-pci; a
// second apply writes nothing; an empty manifest gives back 4 VFs on iavf. And the crash
// matrix of the claim: a run killed after any of its writes is finished by the next run
// (sriov_give_back_crash_test does the same for giving the PF back).
#define BOOST_TEST_MODULE sriov_apply
#include <boost/test/unit_test.hpp>

#include <string>

#include "sriov_support.h"

using namespace vfio;

using namespace vfio::test::sriov;

BOOST_AUTO_TEST_CASE(eight_vfs_on_vfio_then_nothing_to_do_then_four_on_iavf_again) {
  Host host("gpu-server");
  auto first = host.apply(manifest());
  BOOST_TEST(!first->outcome.any_failure(), test::group_failed(first->outcome));
  check_claimed(host);
  // iavf never saw a new VF: no VF was ever bound to it, nor unbound from it, after the change.
  for (const auto& w : host.kernel->writes()) {
    BOOST_TEST(!test::contains(w.path.str(), "drivers/iavf"), w.path.str());
  }

  const std::size_t before = host.kernel->writes().size();
  auto second = host.apply(manifest());
  BOOST_TEST(host.kernel->writes().size() == before);  // a second apply writes nothing
  check_claimed(host);

  auto pruned = host.apply(nothing());
  BOOST_TEST(!pruned->outcome.any_failure(), test::group_failed(pruned->outcome));
  check_given_back(host);
  const std::size_t after = host.kernel->writes().size();
  host.apply(nothing());
  BOOST_TEST(host.kernel->writes().size() == after);
}

BOOST_AUTO_TEST_CASE(a_claim_killed_after_any_write_is_finished_by_the_next) {
  // The clean run's write count sizes the matrix.
  unsigned claim_writes = 0;
  {
    Host clean("gpu-server");
    clean.apply(manifest());
    claim_writes = static_cast<unsigned>(clean.kernel->writes().size());
  }
  BOOST_TEST_REQUIRE(claim_writes >= 20u);  // 3 to set the count, 16 to claim, 1 autoprobe
  for (unsigned k = 1; k <= claim_writes; ++k) {
    BOOST_TEST_CONTEXT("the claim dies after write " << k) {
      Host host("gpu-server");
      host.apply_crashing_after_write(k, manifest());
      auto next = host.apply(manifest());
      BOOST_TEST(!next->outcome.any_failure(), test::group_failed(next->outcome));
      check_claimed(host);
      host.apply(nothing());
      check_given_back(host);
    }
  }
}

BOOST_AUTO_TEST_CASE(a_count_change_a_vm_blocks_moves_no_vf_at_all) {
  Host host("gpu-server");
  host.apply(manifest());
  check_claimed(host);
  // A VM holds VF 0's group (its device fd too): removing that VF would block in the kernel.
  const auto group = host.kernel->topology().find(vf(0))->iommu_group;
  BOOST_REQUIRE(group);
  host.kernel->start_process(sim::TopologyProcess{4242, "qemu-system-x86", {*group}, 1, {}, {}});
  test::ScratchFile four(
      "version: 1\nassignments:\n  - name: e810-vfs\n    state: vfio\n"
      "    match: { address: \"0000:5e:00.0\" }\n    vfs: 4\n",
      "four.yaml");
  const std::size_t before = host.kernel->writes().size();
  auto refused = host.apply(four.path());
  BOOST_TEST(host.kernel->writes().size() == before);  // nothing written, no VF released
  bool blocked = false;
  for (const auto& g : refused->outcome.groups) {
    if (g.change->group == 22u) {
      blocked = g.result == GroupResult::Blocked &&
                g.change->blocked_by == std::optional(BlockReason::HeldOpen);
      BOOST_TEST(test::contains(g.change->reason, "pid 4242"), g.change->reason);
    }
    BOOST_TEST((g.result != GroupResult::Released), *g.change->group);
  }
  BOOST_TEST(blocked);
  host.kernel->end_process(4242);
  check_claimed(host);
}
