// What the SR-IOV apply suites share (sriov_apply_test, sriov_give_back_crash_test): the
// gpu-server example host's E810 port (0000:5e:00.0, 4 VFs on iavf, offset 8, stride 1), the
// example manifest asking it for 8 VFs, and the two end states every run must reach.
#pragma once

#include <boost/test/unit_test.hpp>

#include <string>

#include "apply_support.h"

namespace vfio::test::sriov {

using Host = test::SimHost;

const PciAddress kE810{0, 0x5e, 0, 0};

inline std::string manifest() {
  return test::example_manifest("gpu-server-e810-vfs");
}
inline std::string nothing() {
  return (test::source_dir() / "tests/e2e/nothing-assigned.yaml").string();
}

// VF i of the E810: offset 8, stride 1.
inline PciAddress vf(unsigned i) {
  return PciAddress::from_routing_id(0, static_cast<uint16_t>(kE810.routing_id() + 8 + i));
}

inline std::string read(sim::KernelSimulator& kernel, const char* file) {
  Sysfs& sysfs = kernel;
  auto text = sysfs.read(paths::pci_device_file(kE810, file));
  return text ? *text : "<" + text.error().to_string() + ">";
}

inline unsigned present_vfs(sim::KernelSimulator& kernel) {
  unsigned n = 0;
  for (unsigned i = 0; i < 16; ++i) n += kernel.present(vf(i)) ? 1u : 0u;
  return n;
}

// The port carries 8 VFs, each alone in its group on vfio-pci (override too, group viable), the
// port on ice with VF autoprobe on as before; the record holds the port's originals and each VF
// group, none in flight.
inline void check_claimed(Host& host) {
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
inline void check_given_back(Host& host) {
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

}  // namespace vfio::test::sriov
