// driver_override, as docs/kernel-pci-sysfs.md says the kernel parses and applies it.
#define BOOST_TEST_MODULE kernel_simulator_override
#include <boost/test/unit_test.hpp>

#include <cerrno>

#include "sim_test_topologies.h"

using namespace vfio;
using namespace vfio::sim;
using namespace vfio::sim::testing;
using namespace std::string_literals;

namespace {

struct Host {
  KernelSimulator sim{test_host()};
};

}  // namespace

BOOST_FIXTURE_TEST_SUITE(driver_override, Host)

BOOST_AUTO_TEST_CASE(reads_null_when_unset) {
  BOOST_TEST(read_text(sim, override_path(kNic)) == "(null)\n");
  BOOST_TEST(!sim.override_of(kNic));
}

BOOST_AUTO_TEST_CASE(is_cut_at_the_first_newline_or_nul) {
  for (const std::string& value : {"vfio-pci"s, "vfio-pci\n"s, "vfio-pci\0junk"s, "vfio-pci\nx"s}) {
    KernelSimulator fresh{test_host()};
    BOOST_REQUIRE(fresh.write(override_path(kNic), value));
    BOOST_TEST(read_text(fresh, override_path(kNic)) == "vfio-pci\n");
    BOOST_TEST(fresh.override_of(kNic) == "vfio-pci");
  }
}

BOOST_AUTO_TEST_CASE(spaces_are_kept) {
  BOOST_REQUIRE(sim.write(override_path(kNic), " vfio-pci \n"));
  BOOST_TEST(read_text(sim, override_path(kNic)) == " vfio-pci \n");
  BOOST_TEST(sim.override_of(kNic) == " vfio-pci ");
}

BOOST_AUTO_TEST_CASE(a_newline_or_a_nul_clears) {
  for (const std::string& clear : {"\n"s, "\0"s, "\0vfio-pci"s}) {
    BOOST_REQUIRE(sim.write(override_path(kNic), "vfio-pci"));
    BOOST_REQUIRE(sim.write(override_path(kNic), clear));
    BOOST_TEST(read_text(sim, override_path(kNic)) == "(null)\n");
    BOOST_TEST(!sim.override_of(kNic));
  }
}

BOOST_AUTO_TEST_CASE(a_zero_length_write_changes_nothing_and_succeeds) {
  BOOST_REQUIRE(sim.write(override_path(kNic), "vfio-pci"));
  BOOST_TEST(sim.write(override_path(kNic), "").ok());
  BOOST_TEST(sim.override_of(kNic) == "vfio-pci");
  BOOST_TEST(read_text(sim, override_path(kNic)) == "vfio-pci\n");
}

BOOST_AUTO_TEST_CASE(too_long_is_einval) {
  BOOST_TEST(error_of(sim.write(override_path(kNic), std::string(4095, 'a'))) == EINVAL);
  BOOST_TEST(error_of(sim.write(override_path(kNic), "vfio-pci" + std::string(5000, '\0'))) ==
             EINVAL);
  BOOST_TEST(!sim.override_of(kNic));
  BOOST_TEST(sim.write(override_path(kNic), std::string(4094, 'a')).ok());
}

BOOST_AUTO_TEST_CASE(the_null_trap_reads_like_unset_but_never_binds) {
  BOOST_REQUIRE(sim.write(override_path(kNic), "(null)"));
  BOOST_TEST(read_text(sim, override_path(kNic)) == "(null)\n");
  BOOST_TEST(sim.override_of(kNic) == "(null)");  // the simulator keeps the distinction
  BOOST_REQUIRE(sim.write(drv_file("e1000e", "unbind"), kNic.str()));
  BOOST_TEST(sim.write(paths::drivers_probe(), kNic.str()).ok());
  BOOST_TEST(!sim.driver_of(kNic));
  // The host driver cannot take it either: the override names another driver.
  BOOST_TEST(error_of(sim.write(drv_file("e1000e", "bind"), kNic.str())) == ENODEV);
  // The topology export keeps it too.
  BOOST_TEST(sim.topology().find(kNic)->driver_override == "(null)");
  // Only a real clear undoes it.
  BOOST_REQUIRE(sim.write(override_path(kNic), "\n"));
  BOOST_REQUIRE(sim.write(paths::drivers_probe(), kNic.str()));
  BOOST_TEST(sim.driver_of(kNic) == "e1000e");
}

BOOST_AUTO_TEST_CASE(writing_it_never_binds_or_unbinds) {
  BOOST_REQUIRE(sim.write(override_path(kNic), "vfio-pci\n"));
  BOOST_TEST(sim.driver_of(kNic) == "e1000e");
  BOOST_REQUIRE(sim.write(override_path(kNic), "\n"));
  BOOST_TEST(sim.driver_of(kNic) == "e1000e");

  BOOST_REQUIRE(sim.write(drv_file("e1000e", "unbind"), kNic.str()));
  BOOST_REQUIRE(sim.write(override_path(kNic), "vfio-pci"));
  BOOST_TEST(!sim.driver_of(kNic));
  BOOST_REQUIRE(sim.write(override_path(kNic), "e1000e"));
  BOOST_TEST(!sim.driver_of(kNic));
}

BOOST_AUTO_TEST_CASE(an_override_naming_a_missing_driver_or_a_space_leaves_the_device_driverless) {
  for (const std::string& bogus : {"no-such-driver"s, " "s, "vfio-pci "s}) {
    KernelSimulator fresh{test_host()};
    BOOST_REQUIRE(fresh.write(override_path(kNic), bogus));
    BOOST_REQUIRE(fresh.write(drv_file("e1000e", "unbind"), kNic.str() + "\n"));
    BOOST_TEST(fresh.write(paths::drivers_probe(), kNic.str()).ok());
    BOOST_TEST(!fresh.driver_of(kNic), bogus);
  }
}

BOOST_AUTO_TEST_CASE(an_override_naming_the_host_driver_binds_it) {
  BOOST_REQUIRE(sim.write(drv_file("e1000e", "unbind"), kNic.str()));
  BOOST_REQUIRE(sim.write(override_path(kNic), "e1000e"));
  BOOST_REQUIRE(sim.write(paths::drivers_probe(), kNic.str()));
  BOOST_TEST(sim.driver_of(kNic) == "e1000e");
}

BOOST_AUTO_TEST_CASE(an_override_wins_over_the_host_drivers_id_table) {
  BOOST_REQUIRE(sim.write(override_path(kNic), "vfio-pci"));
  BOOST_REQUIRE(sim.write(drv_file("e1000e", "unbind"), kNic.str()));
  BOOST_REQUIRE(sim.write(paths::drivers_probe(), kNic.str()));
  BOOST_TEST(sim.driver_of(kNic) == "vfio-pci");
}

BOOST_AUTO_TEST_SUITE_END()
