// The crash matrix of giving an SR-IOV PF back (issue 14), on the gpu-server example host: the
// E810 port carries 8 VFs on vfio-pci (examples/gpu-server-e810-vfs.yaml applied), then an
// empty manifest gives it back its 4 VFs on iavf; the run doing that dies after each of its
// writes in turn, and the next run must finish it.
#define BOOST_TEST_MODULE sriov_give_back_crash
#include <boost/test/unit_test.hpp>

#include "sriov_support.h"

using namespace vfio;
using namespace vfio::test::sriov;

BOOST_AUTO_TEST_CASE(a_give_back_killed_after_any_write_is_finished_by_the_next) {
  unsigned prune_writes = 0;
  {
    Host clean("gpu-server");
    clean.apply(manifest());
    const std::size_t claimed = clean.kernel->writes().size();
    clean.apply(nothing());
    prune_writes = static_cast<unsigned>(clean.kernel->writes().size() - claimed);
  }
  BOOST_TEST_REQUIRE(prune_writes >= 16u);  // 4 on the PF, 3 per VF to pin its driver
  for (unsigned k = 1; k <= prune_writes; ++k) {
    BOOST_TEST_CONTEXT("the give-back dies after write " << k) {
      Host host("gpu-server");
      host.apply(manifest());
      const unsigned done = static_cast<unsigned>(host.kernel->writes().size());
      host.apply_crashing_after_write(done + k, nothing());
      auto next = host.apply(nothing());
      BOOST_TEST(!next->outcome.any_failure(), test::group_failed(next->outcome));
      check_given_back(host);
    }
  }
}
