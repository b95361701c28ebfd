// SR-IOV applied (issue 14), on the gpu-server example host in the kernel simulator: the E810
// port (0000:5e:00.0, 4 VFs on iavf) asked for 8 VFs keeps ice and carries 8 VFs on vfio-pci; a
// second apply writes nothing; an empty manifest gives back 4 VFs on iavf. And the crash
// matrix: a run killed after any of its writes, setting the count or giving it back, is
// finished by the next run.
#define BOOST_TEST_MODULE sriov_apply
#include <boost/test/unit_test.hpp>

#include <string>

#include "apply_support.h"

using namespace vfio;

namespace {

using Host = test::SimHost;

const PciAddress kE810{0, 0x5e, 0, 0};

std::string manifest() {
  return test::example_manifest("gpu-server-e810-vfs");
}
std::string nothing() {
  return (test::source_dir() / "tests/e2e/nothing-assigned.yaml").string();
}

// VF i of the E810: offset 8, stride 1.
PciAddress vf(unsigned i) {
  return PciAddress::from_routing_id(0, static_cast<uint16_t>(kE810.routing_id() + 8 + i));
}

std::string read(sim::KernelSimulator& kernel, const char* file) {
  Sysfs& sysfs = kernel;
  auto text = sysfs.read(paths::pci_device_file(kE810, file));
  return text ? *text : "<" + text.error().to_string() + ">";
}

unsigned present_vfs(sim::KernelSimulator& kernel) {
  unsigned n = 0;
  for (unsigned i = 0; i < 16; ++i) n += kernel.present(vf(i)) ? 1u : 0u;
  return n;
}

// The port carries 8 VFs, each alone in its group on vfio-pci (override too, group viable), the
// port on ice with VF autoprobe on as before; the record holds the port's originals and each VF
// group, none in flight.
void check_claimed(Host& host) {
  sim::KernelSimulator& kernel = *host.kernel;
  BOOST_TEST(kernel.driver_of(kE810).value_or("-") == "ice");
  BOOST_TEST(read(kernel, "sriov_numvfs") == "8\n");
  BOOST_TEST(read(kernel, "sriov_drivers_autoprobe") == "1\n");
  BOOST_TEST(present_vfs(kernel) == 8u);
  for (unsigned i = 0; i < 8; ++i) {
    BOOST_TEST_CONTEXT("VF " << i) {
      BOOST_TEST(kernel.driver_of(vf(i)).value_or("-") == "vfio-pci");
      BOOST_TEST(kernel.override_of(vf(i)).value_or("-") == "vfio-pci");
    }
  }
  const LoadedRecord loaded = host.record();
  BOOST_TEST(loaded.problems.empty());
  BOOST_TEST_REQUIRE(loaded.record.groups.size() == 9u);
  const OwnedGroup* pf = loaded.record.find(22);
  BOOST_TEST_REQUIRE(pf != nullptr);
  BOOST_TEST(!pf->in_flight);
  BOOST_TEST_REQUIRE(pf->vfs.size() == 1u);
  BOOST_TEST(pf->vfs[0].original_count == 4u);
  BOOST_TEST(pf->vfs[0].original_autoprobe);
  BOOST_TEST(pf->vfs[0].original_drivers.size() == 4u);
  for (const auto& d : pf->vfs[0].original_drivers) BOOST_TEST(d.value_or("-") == "iavf");
  for (const auto& [group, entry] : loaded.record.groups) BOOST_TEST(!entry.in_flight, group);
}

// As the host booted: 4 VFs on iavf, no override, autoprobe on; nothing recorded.
void check_given_back(Host& host) {
  sim::KernelSimulator& kernel = *host.kernel;
  BOOST_TEST(kernel.driver_of(kE810).value_or("-") == "ice");
  BOOST_TEST(read(kernel, "sriov_numvfs") == "4\n");
  BOOST_TEST(read(kernel, "sriov_drivers_autoprobe") == "1\n");
  BOOST_TEST(present_vfs(kernel) == 4u);
  for (unsigned i = 0; i < 4; ++i) {
    BOOST_TEST_CONTEXT("VF " << i) {
      BOOST_TEST(kernel.driver_of(vf(i)).value_or("-") == "iavf");
      BOOST_TEST(!kernel.override_of(vf(i)));
    }
  }
  const LoadedRecord loaded = host.record();
  BOOST_TEST(loaded.problems.empty());
  BOOST_TEST(loaded.record.groups.empty());
}

}  // namespace

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

BOOST_AUTO_TEST_CASE(a_run_killed_after_any_write_is_finished_by_the_next) {
  // The clean runs' write counts size the matrix.
  unsigned claim_writes = 0, prune_writes = 0;
  {
    Host clean("gpu-server");
    clean.apply(manifest());
    claim_writes = static_cast<unsigned>(clean.kernel->writes().size());
    clean.apply(nothing());
    prune_writes = static_cast<unsigned>(clean.kernel->writes().size()) - claim_writes;
  }
  BOOST_TEST_REQUIRE(claim_writes >= 20u);  // 3 to set the count, 16 to claim, 1 autoprobe
  BOOST_TEST_REQUIRE(prune_writes >= 16u);
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

BOOST_AUTO_TEST_CASE(a_count_change_a_vm_blocks_moves_no_vf_at_all) {
  Host host("gpu-server");
  host.apply(manifest());
  check_claimed(host);
  // A VM holds VF 0's group (its device fd too): removing that VF would block in the kernel.
  const auto group = host.kernel->topology().find(vf(0))->iommu_group;
  BOOST_REQUIRE(group);
  host.kernel->start_process(sim::TopologyProcess{4242, "qemu-system-x86", {*group}, 1});
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
