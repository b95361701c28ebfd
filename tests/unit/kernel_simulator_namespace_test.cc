// The simulator's sysfs tree: listings, attribute files, links, and the errno of each misuse.
#define BOOST_TEST_MODULE kernel_simulator_namespace
#include <boost/test/unit_test.hpp>

#include <algorithm>
#include <cerrno>

#include "sim/device_attributes.h"
#include "sim_test_topologies.h"

using namespace vfio;
using namespace vfio::sim;
using namespace vfio::sim::testing;

namespace {

struct Host {
  KernelSimulator sim{test_host()};

  std::set<std::string> names(const SysPath& dir) {
    auto r = sim.list(dir);
    BOOST_REQUIRE_MESSAGE(r.ok(), dir.str() + ": " + (r.ok() ? "" : r.error().to_string()));
    return {r->begin(), r->end()};
  }
  bool has(const SysPath& dir, const std::string& name) { return names(dir).contains(name); }
  std::string link(const SysPath& path) {
    auto r = sim.read_link(path);
    return r.ok() ? r.value() : "<" + errno_name(r.error().error) + ">";
  }
};

bool ends_with(const std::string& s, const std::string& tail) {
  return s.size() >= tail.size() && s.compare(s.size() - tail.size(), tail.size(), tail) == 0;
}

}  // namespace

BOOST_FIXTURE_TEST_SUITE(namespace_tree, Host)

BOOST_AUTO_TEST_CASE(display_names_the_file_under_sys) {
  BOOST_TEST(sim.display(paths::drivers_probe()) == "/sys/bus/pci/drivers_probe");
  auto r = as_sysfs(sim).read(dev_file(kAbsent, "vendor"));
  BOOST_REQUIRE(!r);
  BOOST_TEST(r.error().path == "/sys/bus/pci/devices/0000:09:00.0/vendor");
}

BOOST_AUTO_TEST_CASE(lists_present_devices) {
  auto devices = names(paths::pci_devices());
  BOOST_TEST(devices.size() == 10u);
  BOOST_TEST(devices.contains("0000:01:00.1"));
  sim.remove_device(kAudio);
  BOOST_TEST(!has(paths::pci_devices(), "0000:01:00.1"));
}

BOOST_AUTO_TEST_CASE(a_device_directory_has_attributes_links_remove_and_rescan) {
  auto entries = names(paths::pci_device(kGpu));
  for (const char* name : {"vendor", "device", "class", "config", "driver_override", "boot_vga",
                           "modalias", "driver", "iommu_group", "subsystem", "remove", "rescan"}) {
    BOOST_TEST(entries.contains(name), name);
  }
  BOOST_TEST(!entries.contains("physfn"));
  BOOST_TEST(!names(paths::pci_device(kBridge)).contains("driver"));
  BOOST_TEST(!names(paths::pci_device(kSmbus)).contains("iommu_group"));
  BOOST_TEST(names(paths::pci_device(kVf)).contains("physfn"));
  auto pf = names(paths::pci_device(kPf));
  BOOST_TEST(pf.contains("virtfn0"));
  BOOST_TEST(pf.contains("sriov_totalvfs"));
  BOOST_TEST(!pf.contains("virtfn1"));
}

BOOST_AUTO_TEST_CASE(attribute_reads_agree_with_device_attributes) {
  Topology t = test_host();
  const auto expected = device_attributes(*t.find(kAudio), true, 0);
  for (const auto& [name, content] : expected) {
    auto r = as_sysfs(sim).read(dev_file(kAudio, name));
    BOOST_REQUIRE(r);
    BOOST_TEST((r.value() == content), name);
  }
  BOOST_TEST(read_text(sim, dev_file(kGpu, "class")) == "0x030000\n");
  BOOST_TEST(read_text(sim, dev_file(kGpu, "vendor")) == "0x10de\n");
  // Multifunction: bit 7 of the header type byte.
  BOOST_TEST(static_cast<unsigned char>(read_text(sim, dev_file(kGpu, "config"))[0x0e]) == 0x80u);
  BOOST_TEST(static_cast<unsigned char>(read_text(sim, dev_file(kRootPort, "config"))[0x0e]) ==
             0x01u);
  BOOST_TEST(read_text(sim, dev_file(kPf, "sriov_numvfs")) == "1\n");
}

BOOST_AUTO_TEST_CASE(reads_respect_max_bytes) {
  auto r = as_sysfs(sim).read(dev_file(kGpu, "config"), 64);
  BOOST_REQUIRE(r);
  BOOST_TEST(r->size() == 64u);
  BOOST_TEST(as_sysfs(sim).read(dev_file(kGpu, "vendor"), 2).value() == "0x");
  BOOST_TEST(as_sysfs(sim).read(dev_file(kGpu, "config")).value().size() == 256u);
}

BOOST_AUTO_TEST_CASE(drivers_lists_registered_drivers_with_their_files_and_devices) {
  auto drivers = names(paths::pci_drivers());
  BOOST_TEST(drivers.contains("vfio-pci"));
  BOOST_TEST(drivers.contains("snd_hda_intel"));
  auto e1000e = names(paths::pci_driver("e1000e"));
  for (const char* name :
       {"bind", "unbind", "new_id", "remove_id", "module", "0000:02:00.0", "0000:03:00.0"}) {
    BOOST_TEST(e1000e.contains(name), name);
  }
  BOOST_TEST(!names(paths::pci_driver("pcieport")).contains("module"));  // built in
  BOOST_TEST(link(drv_file("e1000e", "module")) == "../../../../module/e1000e");
  BOOST_TEST(link(drv_file("xhci_hcd", "module")) == "../../../../module/xhci_pci");
  BOOST_TEST(ends_with(link(drv_file("e1000e", kNic.str())), "/0000:02:00.0"));
  BOOST_TEST(read_text(sim, drv_file("e1000e", kNic.str()) / "vendor") == "0x8086\n");
}

BOOST_AUTO_TEST_CASE(bus_files) {
  BOOST_TEST(read_text(sim, SysPath() / "bus" / "pci" / "drivers_autoprobe") == "1\n");
  BOOST_TEST(error_of(as_sysfs(sim).read(paths::drivers_probe())) == EACCES);  // write-only
  BOOST_TEST(error_of(as_sysfs(sim).read(drv_file("e1000e", "bind"))) == EACCES);
}

BOOST_AUTO_TEST_CASE(links_of_a_device) {
  const std::string device = link(paths::pci_device(kGpu));
  BOOST_TEST(device == "../../../devices/pci0000:00/0000:00:01.0/0000:01:00.0");
  BOOST_TEST(link(dev_file(kGpu, "driver")) == "../../../../bus/pci/drivers/nouveau");
  BOOST_TEST(link(dev_file(kNic, "driver")) == "../../../bus/pci/drivers/e1000e");
  BOOST_TEST(link(dev_file(kGpu, "iommu_group")) == "../../../../kernel/iommu_groups/1");
  BOOST_TEST(link(dev_file(kBridge, "driver")) == "<ENOENT>");
  BOOST_TEST(link(dev_file(kSmbus, "iommu_group")) == "<ENOENT>");
  BOOST_TEST(link(dev_file(kVf, "physfn")) == "../0000:06:00.0");
  BOOST_TEST(link(dev_file(kPf, "virtfn0")) == "../0000:06:10.0");
  BOOST_TEST(ends_with(link(dev_file(kGpu, "subsystem")), "bus/pci"));
  BOOST_TEST(read_text(sim, dev_file(kVf, "physfn") / "device") == "0x1521\n");
}

BOOST_AUTO_TEST_CASE(paths_through_links_work_like_the_filesystem) {
  BOOST_TEST(has(dev_file(kGpu, "driver"), "unbind"));
  BOOST_TEST(has(dev_file(kGpu, "iommu_group") / "devices", "0000:01:00.1"));
  BOOST_TEST(has(dev_file(kGpu, "subsystem") / "devices", "0000:02:00.0"));
  BOOST_TEST(error_of(sim.list(dev_file(kBridge, "driver"))) == ENOENT);
  BOOST_TEST(error_of(sim.write(dev_file(kBridge, "driver") / "unbind", kBridge.str())) == ENOENT);
}

BOOST_AUTO_TEST_CASE(iommu_groups_and_units) {
  auto groups = names(paths::iommu_groups());
  BOOST_TEST((groups == std::set<std::string>{"1", "2", "3", "4", "6", "7"}));
  auto members = names(paths::iommu_group_devices(1));
  BOOST_TEST((members == std::set<std::string>{"0000:00:01.0", "0000:01:00.0", "0000:01:00.1"}));
  BOOST_TEST(ends_with(link(paths::iommu_group_devices(1) / "0000:01:00.0"),
                       "devices/pci0000:00/0000:00:01.0/0000:01:00.0"));
  BOOST_TEST(names(paths::iommu_units()) == std::set<std::string>{"dmar0"});
  // A removed device leaves its group; a group whose last member went is gone.
  sim.remove_device(kAudio);
  BOOST_TEST(!has(paths::iommu_group_devices(1), "0000:01:00.1"));
  sim.remove_device(kNic);
  BOOST_TEST(!has(paths::iommu_groups(), "2"));
  BOOST_TEST(error_of(sim.list(paths::iommu_group_devices(2))) == ENOENT);
}

BOOST_AUTO_TEST_CASE(with_the_iommu_off_groups_exist_but_are_empty) {
  Topology t = test_host();
  t.iommu = false;
  KernelSimulator off{t};
  auto groups = off.list(paths::iommu_groups());
  BOOST_REQUIRE(groups);
  BOOST_TEST(groups->empty());
  auto units = off.list(paths::iommu_units());
  BOOST_REQUIRE(units);
  BOOST_TEST(units->empty());
  BOOST_TEST(error_of(off.read_link(dev_file(kGpu, "iommu_group"))) == ENOENT);
  // And vfio-pci has no group to attach to.
  BOOST_REQUIRE(off.write(override_path(kNic), "vfio-pci"));
  BOOST_REQUIRE(off.write(drv_file("e1000e", "unbind"), kNic.str()));
  BOOST_TEST(off.write(paths::drivers_probe(), kNic.str()).ok());
  BOOST_TEST(!off.driver_of(kNic));
}

BOOST_AUTO_TEST_CASE(loaded_modules) {
  auto modules = names(SysPath() / "module");
  BOOST_TEST(modules.contains("vfio_pci"));
  BOOST_TEST(modules.contains("e1000e"));
  BOOST_TEST(!modules.contains("pcieport"));
  sim.unload_vfio_pci();
  BOOST_TEST(!has(SysPath() / "module", "vfio_pci"));
  BOOST_TEST(!has(paths::pci_drivers(), "vfio-pci"));
}

BOOST_AUTO_TEST_CASE(errors) {
  // Unknown path.
  BOOST_TEST(error_of(as_sysfs(sim).read(SysPath() / "bus" / "usb")) == ENOENT);
  BOOST_TEST(error_of(as_sysfs(sim).read(dev_file(kGpu, "nonexistent"))) == ENOENT);
  BOOST_TEST(error_of(sim.write(dev_file(kGpu, "nonexistent"), "1")) == ENOENT);
  // Read-only attributes.
  for (const char* name : {"vendor", "class", "config", "device", "boot_vga"}) {
    BOOST_TEST(error_of(sim.write(dev_file(kGpu, name), "0x1234")) == EACCES, name);
  }
  BOOST_TEST(read_text(sim, dev_file(kGpu, "vendor")) == "0x10de\n");
  // A file is not a directory, a directory is not a file.
  BOOST_TEST(error_of(sim.list(dev_file(kGpu, "vendor"))) == ENOTDIR);
  BOOST_TEST(error_of(as_sysfs(sim).read(dev_file(kGpu, "vendor") / "x")) == ENOTDIR);
  BOOST_TEST(error_of(as_sysfs(sim).read(paths::pci_device(kGpu))) == EISDIR);
  BOOST_TEST(error_of(as_sysfs(sim).read(dev_file(kGpu, "driver"))) == EISDIR);
  BOOST_TEST(error_of(sim.write(paths::pci_devices(), "x")) == EISDIR);
  // read_link of a regular file or a directory, and of nothing.
  BOOST_TEST(error_of(sim.read_link(dev_file(kGpu, "vendor"))) == EINVAL);
  BOOST_TEST(error_of(sim.read_link(paths::pci_devices())) == EINVAL);
  BOOST_TEST(error_of(sim.read_link(dev_file(kGpu, "nothing"))) == ENOENT);
}

BOOST_AUTO_TEST_CASE(topology_round_trips_the_current_state) {
  BOOST_REQUIRE(sim.write(override_path(kNic), "vfio-pci"));
  BOOST_REQUIRE(sim.write(drv_file("e1000e", "unbind"), kNic.str()));
  BOOST_REQUIRE(sim.write(paths::drivers_probe(), kNic.str()));
  sim.remove_device(kSmbus);
  const Topology t = sim.topology();
  BOOST_TEST(t.name == "test-host");
  BOOST_TEST(t.devices.size() == 9u);
  BOOST_TEST(t.find(kSmbus) == nullptr);
  BOOST_TEST(t.find(kNic)->bound_driver == "vfio-pci");
  BOOST_TEST(t.find(kNic)->driver_override == "vfio-pci");
  BOOST_TEST(t.find(kNic)->host_driver == "e1000e");
  BOOST_TEST(t.find(kGpu)->bound_driver == "nouveau");
  BOOST_TEST(t.find(kBridge)->bound_driver == std::nullopt);
  BOOST_TEST(t.find_driver("vfio-pci")->dma_safe);
  // A simulator started from the export is in the same state.
  KernelSimulator again{t};
  BOOST_TEST(again.driver_of(kNic) == "vfio-pci");
  BOOST_TEST(!again.present(kSmbus));
  BOOST_TEST(again.vfio_group_nodes() == std::set<unsigned>{2});
}

BOOST_AUTO_TEST_SUITE_END()
