// /dev/vfio/N, group viability, removal and rescan, and the documented claim/release sequences.
#define BOOST_TEST_MODULE kernel_simulator_groups
#include <boost/test/unit_test.hpp>

#include <cerrno>

#include "sim_test_topologies.h"

using namespace vfio;
using namespace vfio::sim;
using namespace vfio::sim::testing;

namespace {

struct Host {
  KernelSimulator sim{test_host()};

  // docs/kernel-pci-sysfs.md's claim sequence.
  void claim(const PciAddress& a) {
    BOOST_REQUIRE(sim.write(override_path(a), "vfio-pci"));
    if (auto target = sim.read_link(dev_file(a, "driver")); target.ok()) {
      BOOST_REQUIRE(sim.write(dev_file(a, "driver") / "unbind", a.str()));
    }
    BOOST_REQUIRE(sim.write(paths::drivers_probe(), a.str()));
  }
  // ... and its release sequence.
  void release(const PciAddress& a) {
    BOOST_REQUIRE(sim.write(drv_file("vfio-pci", "unbind"), a.str()));
    BOOST_REQUIRE(sim.write(override_path(a), "\n"));
    BOOST_REQUIRE(sim.write(paths::drivers_probe(), a.str()));
  }
};

}  // namespace

BOOST_FIXTURE_TEST_SUITE(groups, Host)

BOOST_AUTO_TEST_CASE(the_claim_sequence_ends_on_vfio_pci) {
  claim(kNic);
  BOOST_TEST(sim.driver_of(kNic) == "vfio-pci");
  BOOST_TEST(sim.read_link(dev_file(kNic, "driver")).value() ==
             "../../../bus/pci/drivers/vfio-pci");
  BOOST_TEST(sim.override_of(kNic) == "vfio-pci");
  BOOST_TEST(sim.successful_write_count() == 3u);
}

BOOST_AUTO_TEST_CASE(the_release_sequence_ends_on_the_host_driver) {
  claim(kNic);
  release(kNic);
  BOOST_TEST(sim.driver_of(kNic) == "e1000e");
  BOOST_TEST(!sim.override_of(kNic));
  BOOST_TEST(read_text(sim, override_path(kNic)) == "(null)\n");
}

BOOST_AUTO_TEST_CASE(releasing_a_device_that_had_no_driver_leaves_it_driverless) {
  // An endpoint with no host driver: take one from the topology.
  Topology t = test_host();
  for (auto& d : t.devices) {
    if (d.address == kUsb) {
      d.host_driver.reset();
      d.bound_driver.reset();
    }
  }
  KernelSimulator bare{t};
  BOOST_REQUIRE(bare.write(override_path(kUsb), "vfio-pci"));
  BOOST_REQUIRE(bare.write(paths::drivers_probe(), kUsb.str()));
  BOOST_REQUIRE(bare.driver_of(kUsb) == "vfio-pci");
  BOOST_REQUIRE(bare.write(drv_file("vfio-pci", "unbind"), kUsb.str()));
  BOOST_REQUIRE(bare.write(override_path(kUsb), "\n"));
  BOOST_REQUIRE(bare.write(paths::drivers_probe(), kUsb.str()));
  BOOST_TEST(!bare.driver_of(kUsb));
}

BOOST_AUTO_TEST_CASE(dev_vfio_node_appears_with_the_first_member_and_goes_with_the_last) {
  BOOST_TEST(sim.vfio_group_nodes().empty());
  claim(kGpu);
  BOOST_TEST(sim.vfio_group_nodes() == std::set<unsigned>{1});
  claim(kAudio);
  claim(kNic);
  BOOST_TEST((sim.vfio_group_nodes() == std::set<unsigned>{1, 2}));
  release(kGpu);
  BOOST_TEST((sim.vfio_group_nodes() == std::set<unsigned>{1, 2}));
  release(kAudio);
  BOOST_TEST(sim.vfio_group_nodes() == std::set<unsigned>{2});
  sim.unload_vfio_pci();
  BOOST_TEST(sim.vfio_group_nodes().empty());
}

BOOST_AUTO_TEST_CASE(viability) {
  BOOST_TEST(!sim.group_viable(1));  // nouveau and snd_hda_intel do DMA
  claim(kGpu);
  BOOST_TEST(!sim.group_viable(1));  // binding one member alone is allowed, and not viable
  claim(kAudio);
  BOOST_TEST(sim.group_viable(1));   // endpoints on vfio-pci, root port on pcieport (DMA-safe)
  BOOST_TEST(!sim.group_viable(3));  // xhci_hcd
  claim(kUsb);
  BOOST_TEST(sim.group_viable(3));  // bridge without a driver + endpoint on vfio-pci
  BOOST_TEST(!sim.group_viable(2));
  BOOST_REQUIRE(sim.write(drv_file("e1000e", "unbind"), kNic.str()));
  BOOST_TEST(sim.group_viable(2));  // an unbound member is fine
  BOOST_REQUIRE(sim.write(drv_file("pci-stub", "new_id"), "8086 10d3"));
  BOOST_TEST(sim.driver_of(kNic) == "pci-stub");
  BOOST_TEST(sim.group_viable(2));  // pci-stub is DMA-safe
  BOOST_TEST(!sim.group_viable(99));
}

BOOST_AUTO_TEST_CASE(a_removed_device_leaves_its_group_for_viability) {
  claim(kGpu);
  BOOST_TEST(!sim.group_viable(1));
  sim.remove_device(kAudio);
  BOOST_TEST(sim.group_viable(1));
}

BOOST_AUTO_TEST_CASE(removal_gives_enoent_on_own_paths_and_enodev_on_bus_files) {
  BOOST_REQUIRE(sim.write(dev_file(kNic, "remove"), "1"));
  BOOST_TEST(!sim.present(kNic));
  BOOST_TEST(!sim.driver_of(kNic));
  BOOST_TEST(error_of(as_sysfs(sim).read(dev_file(kNic, "vendor"))) == ENOENT);
  BOOST_TEST(error_of(as_sysfs(sim).read(override_path(kNic))) == ENOENT);
  BOOST_TEST(error_of(sim.read_link(dev_file(kNic, "driver"))) == ENOENT);
  BOOST_TEST(error_of(sim.read_link(paths::pci_device(kNic))) == ENOENT);
  BOOST_TEST(error_of(sim.write(override_path(kNic), "vfio-pci")) == ENOENT);
  BOOST_TEST(error_of(sim.write(paths::drivers_probe(), kNic.str())) == ENODEV);
  BOOST_TEST(error_of(sim.write(drv_file("e1000e", "unbind"), kNic.str())) == ENODEV);
  BOOST_TEST(error_of(sim.write(drv_file("e1000e", "bind"), kNic.str())) == ENODEV);
  BOOST_TEST(!sim.list(paths::pci_driver("e1000e")).value().empty());
  BOOST_TEST(sim.topology().find(kNic) == nullptr);
}

BOOST_AUTO_TEST_CASE(removing_a_bridge_removes_what_is_below_it) {
  BOOST_REQUIRE(sim.write(dev_file(kRootPort, "remove"), "1\n"));
  BOOST_TEST(!sim.present(kGpu));
  BOOST_TEST(!sim.present(kAudio));
  sim.remove_device(kPf);
  BOOST_TEST(!sim.present(kVf));
  BOOST_TEST(sim.write(dev_file(kNic, "remove"), "0").ok());
  BOOST_TEST(sim.present(kNic));
  BOOST_TEST(error_of(sim.write(dev_file(kNic, "remove"), "yes")) == EINVAL);
}

BOOST_AUTO_TEST_CASE(rescan_brings_devices_back_on_their_host_driver_without_override) {
  claim(kNic);
  claim(kGpu);
  sim.remove_device(kNic);
  sim.remove_device(kGpu);
  BOOST_REQUIRE(sim.write(paths::pci_rescan(), "1"));
  BOOST_TEST(sim.present(kNic));
  BOOST_TEST(sim.driver_of(kNic) == "e1000e");
  BOOST_TEST(!sim.override_of(kNic));
  BOOST_TEST(sim.driver_of(kGpu) == "nouveau");
  BOOST_TEST(sim.driver_of(kAudio) == "snd_hda_intel");
  BOOST_TEST(sim.vfio_group_nodes().empty());
  // Removed from below a bridge: the bridge's own rescan brings it back.
  sim.remove_device(kUsb);
  BOOST_REQUIRE(sim.write(dev_file(kBridge, "rescan"), "1"));
  BOOST_TEST(sim.driver_of(kUsb) == "xhci_hcd");
  // The API call does the same.
  sim.remove_device(kRootPort);
  sim.rescan();
  BOOST_TEST(sim.driver_of(kRootPort) == "pcieport");
  BOOST_TEST(sim.driver_of(kAudio) == "snd_hda_intel");
}

BOOST_AUTO_TEST_CASE(a_failed_claim_that_leaves_the_override_is_caught_by_the_next_probe_event) {
  // Why the override must be cleared after a failed claim: the next rescan/module load binds it.
  KernelSimulator cold{test_host(Topology::VfioPci::Loadable)};
  BOOST_REQUIRE(cold.write(override_path(kNic), "vfio-pci"));
  BOOST_REQUIRE(cold.write(drv_file("e1000e", "unbind"), kNic.str()));
  BOOST_REQUIRE(cold.write(paths::drivers_probe(), kNic.str()));
  BOOST_TEST(!cold.driver_of(kNic));
  cold.load_vfio_pci();
  BOOST_TEST(cold.driver_of(kNic) == "vfio-pci");
}

BOOST_AUTO_TEST_SUITE_END()
