// SR-IOV through sysfs as the kernel does it (drivers/pci/iov.c, pci-driver.c): a PF's
// sriov_numvfs and sriov_drivers_autoprobe, and the VFs that appear and go.
#define BOOST_TEST_MODULE kernel_simulator_sriov
#include <boost/test/unit_test.hpp>

#include <cerrno>

#include "sim_test_topologies.h"

using namespace vfio;
using namespace vfio::sim;
using namespace vfio::sim::testing;

namespace {

const PciAddress kVf1 = addr("0000:06:10.2");
const PciAddress kVf2 = addr("0000:06:10.4");

struct Host {
  KernelSimulator sim{test_host()};

  int numvfs(std::string_view value) {
    return error_of(sim.write(dev_file(kPf, "sriov_numvfs"), value));
  }
  int autoprobe(std::string_view value) {
    return error_of(sim.write(dev_file(kPf, "sriov_drivers_autoprobe"), value));
  }
  std::string read(const SysPath& path) { return read_text(as_sysfs(sim), path); }
  std::optional<unsigned> group_of(const PciAddress& a) {
    auto t = sim.topology();
    const TopologyDevice* d = t.find(a);
    return d ? d->iommu_group : std::nullopt;
  }
};

}  // namespace

BOOST_FIXTURE_TEST_SUITE(numvfs, Host)

BOOST_AUTO_TEST_CASE(the_pf_shows_its_capability) {
  BOOST_TEST(read(dev_file(kPf, "sriov_totalvfs")) == "7\n");
  BOOST_TEST(read(dev_file(kPf, "sriov_numvfs")) == "1\n");
  BOOST_TEST(read(dev_file(kPf, "sriov_drivers_autoprobe")) == "1\n");
  BOOST_TEST(read(dev_file(kPf, "sriov_offset")) == "128\n");
  BOOST_TEST(read(dev_file(kPf, "sriov_stride")) == "2\n");
  BOOST_TEST(read(dev_file(kPf, "sriov_vf_device")) == "1520\n");  // "%x", no 0x
}

BOOST_AUTO_TEST_CASE(the_same_count_again_succeeds_and_changes_nothing) {
  BOOST_TEST(numvfs("1\n") == 0);
  BOOST_TEST(sim.present(kVf));
  BOOST_TEST(sim.driver_of(kVf) == "igbvf");
}

BOOST_AUTO_TEST_CASE(a_nonzero_count_cannot_become_another_without_zero_first) {
  BOOST_TEST(numvfs("3") == EBUSY);
  BOOST_TEST(read(dev_file(kPf, "sriov_numvfs")) == "1\n");
  BOOST_TEST(!sim.present(kVf1));
}

BOOST_AUTO_TEST_CASE(zero_removes_every_vf_and_its_group) {
  const auto group = group_of(kVf);
  BOOST_REQUIRE(group);
  BOOST_TEST(numvfs("0") == 0);
  BOOST_TEST(!sim.present(kVf));
  BOOST_TEST(read(dev_file(kPf, "sriov_numvfs")) == "0\n");
  BOOST_TEST(!as_sysfs(sim).list(paths::pci_device(kPf)).value().empty());
  BOOST_TEST(error_of(sim.read_link(dev_file(kPf, "virtfn0"))) == ENOENT);
  BOOST_TEST(error_of(as_sysfs(sim).list(paths::iommu_group_devices(*group))) == ENOENT);
}

BOOST_AUTO_TEST_CASE(vfs_appear_where_offset_and_stride_put_them_each_in_a_new_group) {
  BOOST_REQUIRE(numvfs("0") == 0);
  BOOST_TEST(numvfs("3\n") == 0);
  BOOST_TEST(read(dev_file(kPf, "sriov_numvfs")) == "3\n");
  const PciAddress vfs[] = {kVf, kVf1, kVf2};
  std::set<unsigned> groups;
  for (unsigned i = 0; i < 3; ++i) {
    const PciAddress& vf = vfs[i];
    BOOST_TEST_CONTEXT(vf.str()) {
      BOOST_TEST(sim.present(vf));
      BOOST_TEST(read(dev_file(vf, "device")) == "0x1520\n");
      BOOST_TEST(read(dev_file(vf, "vendor")) == "0x8086\n");
      BOOST_TEST(sim.read_link(dev_file(kPf, "virtfn" + std::to_string(i))).value() ==
                 "../" + vf.str());
      BOOST_TEST(sim.read_link(dev_file(vf, "physfn")).value() == "../" + kPf.str());
      BOOST_TEST(sim.driver_of(vf) == "igbvf");  // drivers_autoprobe is on
      const auto group = group_of(vf);
      BOOST_REQUIRE(group);
      groups.insert(*group);
    }
  }
  BOOST_TEST(groups.size() == 3u);
  // ida_alloc: the lowest numbers no group holds (0 and 5 are free in this host; 7 was the VF's).
  BOOST_TEST((groups == std::set<unsigned>{0, 5, 7}));
}

BOOST_AUTO_TEST_CASE(a_count_past_totalvfs_is_erange_and_a_bad_number_einval) {
  BOOST_REQUIRE(numvfs("0") == 0);
  BOOST_TEST(numvfs("8") == ERANGE);
  BOOST_TEST(numvfs("three") == EINVAL);
  BOOST_TEST(numvfs("-1") == EINVAL);
  BOOST_TEST(numvfs("70000") == EINVAL);  // kstrtou16 overflows
  BOOST_TEST(numvfs("0x2") == 0);         // base 0: hex is a number
  BOOST_TEST(sim.present(kVf1));
  BOOST_TEST(!sim.present(kVf2));
}

BOOST_AUTO_TEST_CASE(only_the_pfs_own_driver_configures_sriov) {
  BOOST_REQUIRE(numvfs("0") == 0);
  BOOST_REQUIRE(sim.write(drv_file("igb", "unbind"), kPf.str()));
  BOOST_TEST(numvfs("2") == ENOENT);  // "no driver bound to device; cannot configure SR-IOV"
  BOOST_REQUIRE(sim.write(override_path(kPf), "vfio-pci"));
  BOOST_REQUIRE(sim.write(paths::drivers_probe(), kPf.str()));
  BOOST_REQUIRE(sim.driver_of(kPf) == "vfio-pci");
  BOOST_TEST(numvfs("2") == ENOENT);  // vfio-pci without enable_sriov refuses
  BOOST_TEST(!sim.present(kVf));
  BOOST_TEST(numvfs("0") == 0);  // the count it already has is no change
}

BOOST_AUTO_TEST_CASE(removing_the_pf_removes_its_vfs) {
  BOOST_REQUIRE(sim.write(dev_file(kPf, "remove"), "1"));
  BOOST_TEST(!sim.present(kVf));
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_FIXTURE_TEST_SUITE(drivers_autoprobe, Host)

BOOST_AUTO_TEST_CASE(reads_back_and_takes_what_kstrtobool_takes) {
  BOOST_TEST(autoprobe("0") == 0);
  BOOST_TEST(read(dev_file(kPf, "sriov_drivers_autoprobe")) == "0\n");
  BOOST_TEST(autoprobe("on") == 0);
  BOOST_TEST(read(dev_file(kPf, "sriov_drivers_autoprobe")) == "1\n");
  BOOST_TEST(autoprobe("N\n") == 0);
  BOOST_TEST(read(dev_file(kPf, "sriov_drivers_autoprobe")) == "0\n");
  BOOST_TEST(autoprobe("maybe") == EINVAL);
  BOOST_TEST(autoprobe("o") == EINVAL);
  BOOST_TEST(read(dev_file(kPf, "sriov_drivers_autoprobe")) == "0\n");
}

BOOST_AUTO_TEST_CASE(off_new_vfs_meet_no_driver_but_one_their_override_names) {
  BOOST_REQUIRE(numvfs("0") == 0);
  BOOST_REQUIRE(autoprobe("0") == 0);
  BOOST_REQUIRE(numvfs("2") == 0);
  BOOST_TEST(sim.present(kVf));
  BOOST_TEST(!sim.driver_of(kVf));
  BOOST_TEST(!sim.driver_of(kVf1));
  // pci_device_can_probe says no to every driver: drivers_probe binds nothing, bind is ENODEV.
  BOOST_TEST(error_of(sim.write(paths::drivers_probe(), kVf.str())) == 0);
  BOOST_TEST(!sim.driver_of(kVf));
  BOOST_TEST(error_of(sim.write(drv_file("igbvf", "bind"), kVf.str())) == ENODEV);
  BOOST_TEST(!sim.driver_of(kVf));
  // ... unless the VF's driver_override names one.
  BOOST_REQUIRE(sim.write(override_path(kVf), "vfio-pci"));
  BOOST_TEST(error_of(sim.write(paths::drivers_probe(), kVf.str())) == 0);
  BOOST_TEST(sim.driver_of(kVf) == "vfio-pci");
  BOOST_REQUIRE(sim.write(override_path(kVf1), "igbvf"));
  BOOST_TEST(error_of(sim.write(drv_file("igbvf", "bind"), kVf1.str())) == 0);
  BOOST_TEST(sim.driver_of(kVf1) == "igbvf");
}

BOOST_AUTO_TEST_CASE(turning_it_on_binds_nothing_until_the_next_probe) {
  BOOST_REQUIRE(numvfs("0") == 0);
  BOOST_REQUIRE(autoprobe("0") == 0);
  BOOST_REQUIRE(numvfs("1") == 0);
  BOOST_REQUIRE(autoprobe("1") == 0);
  BOOST_TEST(!sim.driver_of(kVf));
  BOOST_REQUIRE(sim.write(paths::drivers_probe(), kVf.str()));
  BOOST_TEST(sim.driver_of(kVf) == "igbvf");
}

BOOST_AUTO_TEST_CASE(it_does_not_touch_vfs_already_bound) {
  BOOST_TEST(autoprobe("0") == 0);
  BOOST_TEST(sim.driver_of(kVf) == "igbvf");
}

BOOST_AUTO_TEST_CASE(the_bus_autoprobe_off_leaves_new_vfs_unbound_too) {
  BOOST_REQUIRE(numvfs("0") == 0);
  BOOST_REQUIRE(sim.write(SysPath() / "bus" / "pci" / "drivers_autoprobe", "0"));
  BOOST_REQUIRE(numvfs("1") == 0);
  BOOST_TEST(!sim.driver_of(kVf));
}

BOOST_AUTO_TEST_SUITE_END()
