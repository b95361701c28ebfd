#define BOOST_TEST_MODULE sysfs_tree_writer
#include <boost/test/unit_test.hpp>

#include <fstream>
#include <map>
#include <set>
#include <string>
#include <vector>

#include <fmt/format.h>
#include <boost/filesystem/operations.hpp>

#include "sim/device_attributes.h"
#include "sim/sysfs_tree_writer.h"
#include "sim/topology_yaml.h"
#include "sysfs/real_sysfs.h"
#include "test_support.h"

using vfio::PciAddress;
using vfio::RealSysfs;
using vfio::SysPath;
using vfio::sim::Topology;
using vfio::test::example_host_files;
using vfio::test::ScratchDir;
namespace fs = boost::filesystem;
namespace paths = vfio::paths;

namespace {

Topology example(const char* name) {
  return vfio::sim::load_topology((fs::path(VFIO_SOURCE_DIR) / "examples/hosts" / name).string());
}

std::set<std::string> listing(vfio::Sysfs& sysfs, const SysPath& dir) {
  auto names = sysfs.list(dir);
  BOOST_REQUIRE_MESSAGE(names.ok(), dir.str());
  return {names->begin(), names->end()};
}

bool inside(const fs::path& root, const fs::path& path) {
  const std::string r = root.string() + "/";
  return path.string().rfind(r, 0) == 0;
}

std::string leaf_of_link(vfio::Sysfs& sysfs, const SysPath& link) {
  auto target = sysfs.read_link(link);
  BOOST_REQUIRE_MESSAGE(target.ok(), link.str());
  return fs::path(*target).filename().string();
}

void write_text(const fs::path& file, const std::string& text) {
  std::ofstream(file.string()) << text;
}

}  // namespace

BOOST_AUTO_TEST_CASE(every_example_reads_back_as_the_topology_says) {
  for (const auto& file : example_host_files()) {
    BOOST_TEST_CONTEXT(file.filename().string()) {
      const Topology t = vfio::sim::load_topology(file.string());
      ScratchDir dir;
      const fs::path& root = dir.path();
      vfio::sim::write_sysfs_tree(t, root);
      RealSysfs gateway(root);
      vfio::Sysfs& sysfs = gateway;

      // bus/pci/devices lists every device, each link resolving to a directory in the root.
      std::set<std::string> expected;
      for (const auto& d : t.devices) expected.insert(d.address.str());
      BOOST_TEST((listing(sysfs, paths::pci_devices()) == expected));
      for (const auto& d : t.devices) {
        const fs::path link = root / paths::pci_device(d.address).str();
        BOOST_TEST(fs::is_symlink(fs::symlink_status(link)));
        const fs::path real = fs::canonical(link);
        BOOST_TEST(inside(root, real), real);
        BOOST_TEST(fs::is_directory(real));
        BOOST_TEST(real.filename().string() == d.address.str());
      }

      for (const auto& d : t.devices) {
        const std::string bdf = d.address.str();
        // Attribute files are device_attributes()' contents.
        auto vendor = sysfs.read(paths::pci_device_file(d.address, "vendor"));
        BOOST_REQUIRE(vendor.ok());
        const auto attributes = vfio::sim::device_attributes(d, vfio::sim::is_multifunction(t, d),
                                                             vfio::sim::enabled_vfs(t, d.address));
        BOOST_TEST(*vendor == attributes.at("vendor"));
        BOOST_TEST(*sysfs.read(paths::pci_device_file(d.address, "config")) ==
                   attributes.at("config"));
        BOOST_TEST(*sysfs.read(paths::pci_device_file(d.address, "driver_override")) ==
                   attributes.at("driver_override"));

        // driver link: the bound driver, or none; uevent says the same, and the same ids.
        auto driver = sysfs.read_link(paths::pci_device_file(d.address, "driver"));
        auto uevent = sysfs.read(paths::pci_device_file(d.address, "uevent"));
        BOOST_REQUIRE_MESSAGE(uevent.ok(), bdf);
        BOOST_TEST(*uevent == attributes.at("uevent"));
        const std::string ids =
            fmt::format("PCI_ID={:04X}:{:04X}\nPCI_SUBSYS_ID={:04X}:{:04X}\n", d.vendor, d.device,
                        d.subsystem_vendor, d.subsystem_device);
        BOOST_TEST(uevent->find(ids) != std::string::npos, bdf);
        BOOST_TEST(
            uevent->find(fmt::format("PCI_CLASS={:04X}\n", d.class_code)) != std::string::npos,
            bdf);
        BOOST_TEST(uevent->find("PCI_SLOT_NAME=" + bdf + "\n") != std::string::npos, bdf);
        if (d.bound_driver) {
          BOOST_REQUIRE_MESSAGE(driver.ok(), bdf);
          BOOST_TEST(fs::path(*driver).filename().string() == *d.bound_driver);
          BOOST_TEST(listing(sysfs, paths::pci_driver(*d.bound_driver)).count(bdf) == 1u);
          BOOST_TEST(uevent->rfind("DRIVER=" + *d.bound_driver + "\n", 0) == 0u, bdf);
        } else {
          BOOST_TEST(!driver.ok(), bdf);
          BOOST_TEST(uevent->find("DRIVER=") == std::string::npos, bdf);
        }

        // iommu_group link: the device's group, or none.
        auto group = sysfs.read_link(paths::pci_device_file(d.address, "iommu_group"));
        if (d.iommu_group) {
          BOOST_REQUIRE_MESSAGE(group.ok(), bdf);
          BOOST_TEST(fs::path(*group).filename().string() == std::to_string(*d.iommu_group));
        } else {
          BOOST_TEST(!group.ok(), bdf);
        }

        // SR-IOV: a VF's config reads ffff ffff, its vendor file the real id; physfn/virtfn.
        if (d.physfn) {
          const std::string config = *sysfs.read(paths::pci_device_file(d.address, "config"), 4);
          BOOST_TEST(config == std::string(4, '\xff'));
          BOOST_TEST(*vendor != "0xffff\n");
          BOOST_TEST(leaf_of_link(sysfs, paths::pci_device_file(d.address, "physfn")) ==
                     d.physfn->str());
        }
        if (d.sriov_total_vfs > 0) {
          const unsigned vfs = vfio::sim::enabled_vfs(t, d.address);
          for (unsigned i = 0; i < vfs; ++i) {
            const fs::path vf = fs::canonical(
                root / paths::pci_device_file(d.address, "virtfn" + std::to_string(i)).str());
            BOOST_TEST(inside(root, vf));
            BOOST_TEST((t.find(*PciAddress::parse(vf.filename().string()))->physfn == d.address));
          }
          BOOST_TEST(*sysfs.read(paths::pci_device_file(d.address, "sriov_numvfs")) ==
                     std::to_string(vfs) + "\n");
        }
      }

      // Group membership, and nothing but the topology's groups.
      std::map<unsigned, std::set<std::string>> groups;
      for (const auto& d : t.devices)
        if (d.iommu_group) groups[*d.iommu_group].insert(d.address.str());
      std::set<std::string> group_names;
      for (const auto& [n, members] : groups) {
        group_names.insert(std::to_string(n));
        BOOST_TEST((listing(sysfs, paths::iommu_group_devices(n)) == members));
        BOOST_TEST(*sysfs.read(paths::iommu_groups() / std::to_string(n) / "type") == "DMA\n");
      }
      BOOST_TEST((listing(sysfs, paths::iommu_groups()) == group_names));
      BOOST_TEST(listing(sysfs, paths::iommu_units()).size() ==
                 (t.iommu ? t.iommu_units.size() : 0u));

      // Drivers: registered ones have a directory and, when modular, a module link.
      for (const auto& driver : t.drivers) {
        const auto files = listing(sysfs, paths::pci_driver(driver.name));
        for (const char* name : {"bind", "unbind", "new_id", "remove_id"})
          BOOST_TEST(files.count(name) == 1u);
        BOOST_TEST(files.count("module") == (driver.module ? 1u : 0u));
        if (driver.module) {
          BOOST_TEST(leaf_of_link(sysfs, paths::pci_driver_file(driver.name, "module")) ==
                     *driver.module);
        }
      }
      const bool vfio_loaded = t.vfio_pci == Topology::VfioPci::Loaded;
      BOOST_TEST(fs::is_directory(root / paths::pci_driver("vfio-pci").str()) == vfio_loaded);
      BOOST_TEST(fs::is_directory(root / paths::module("vfio_pci").str()) == vfio_loaded);
      for (const char* name : {"drivers_probe", "drivers_autoprobe", "rescan"})
        BOOST_TEST(fs::is_regular_file(root / "bus/pci" / name));

      // No absolute link anywhere, and every link stays inside the root.
      std::size_t links = 0;
      for (fs::recursive_directory_iterator it(root), end; it != end; ++it) {
        if (!fs::is_symlink(it->symlink_status())) continue;
        ++links;
        const fs::path target = fs::read_symlink(it->path());
        BOOST_TEST(target.is_relative(), it->path() << " -> " << target);
        boost::system::error_code ec;
        const fs::path real = fs::canonical(it->path(), ec);
        BOOST_TEST(!ec, it->path() << " dangles");
        if (!ec) BOOST_TEST(inside(root, real), it->path() << " -> " << real);
      }
      BOOST_TEST(links > t.devices.size());
    }
  }
}

BOOST_AUTO_TEST_CASE(devices_nest_under_their_parents_and_wide_domains_get_their_own_root) {
  const Topology t = example("gpu-server.yaml");
  ScratchDir dir;
  vfio::sim::write_sysfs_tree(t, dir.path());
  BOOST_TEST(fs::is_directory(dir.path() / "devices/pci0000:17/0000:17:00.0/0000:18:00.0"));
  BOOST_TEST(fs::is_directory(dir.path() / "devices/pci10000:00/10000:00:00.0/10000:01:00.0"));
  BOOST_TEST(
      fs::is_directory(dir.path() / "devices/pci0000:00/0000:00:1c.0/0000:02:00.0/0000:03:00.0"));
  BOOST_TEST(fs::read_symlink(dir.path() / "bus/pci/devices/0000:18:00.0").string() ==
             "../../../devices/pci0000:17/0000:17:00.0/0000:18:00.0");
  BOOST_TEST(
      fs::read_symlink(dir.path() / "devices/pci0000:17/0000:17:00.0/iommu_group").string() ==
      "../../../kernel/iommu_groups/5");
  BOOST_TEST(fs::read_symlink(dir.path() / "class/iommu/dmar0").string() ==
             "../../devices/virtual/iommu/dmar0");
}

BOOST_AUTO_TEST_CASE(no_iommu_host_has_empty_group_and_unit_directories) {
  const Topology t = example("no-iommu.yaml");
  ScratchDir dir;
  vfio::sim::write_sysfs_tree(t, dir.path());
  BOOST_TEST(fs::is_directory(dir.path() / "kernel/iommu_groups"));
  BOOST_TEST(fs::is_empty(dir.path() / "kernel/iommu_groups"));
  BOOST_TEST(fs::is_empty(dir.path() / "class/iommu"));
  BOOST_TEST(!fs::exists(dir.path() / "bus/pci/drivers/vfio-pci"));
}

BOOST_AUTO_TEST_CASE(refuses_a_non_empty_directory_it_did_not_write) {
  ScratchDir dir;
  write_text(dir.path() / "precious", "keep me\n");
  BOOST_CHECK_THROW(vfio::sim::write_sysfs_tree(example("workstation.yaml"), dir.path()),
                    vfio::sim::RefusedDirectory);
  BOOST_TEST(fs::exists(dir.path() / "precious"));
  BOOST_TEST(!fs::exists(dir.path() / "bus"));
}

BOOST_AUTO_TEST_CASE(refuses_a_symlinked_root_and_a_plain_file) {
  ScratchDir dir;
  fs::create_directory(dir.path() / "real");
  fs::create_symlink("real", dir.path() / "link");
  BOOST_CHECK_THROW(vfio::sim::write_sysfs_tree(example("no-iommu.yaml"), dir.path() / "link"),
                    vfio::sim::RefusedDirectory);
  BOOST_TEST(fs::is_empty(dir.path() / "real"));
  write_text(dir.path() / "file", "x");
  BOOST_CHECK_THROW(vfio::sim::write_sysfs_tree(example("no-iommu.yaml"), dir.path() / "file"),
                    vfio::sim::RefusedDirectory);
}

BOOST_AUTO_TEST_CASE(rewrites_a_marked_directory_without_following_links_out) {
  ScratchDir dir;
  const fs::path host = dir.path() / "host";
  const fs::path outside = dir.path() / "outside";
  fs::create_directory(outside);
  write_text(outside / "keep", "keep me\n");

  vfio::sim::write_sysfs_tree(example("workstation.yaml"), host);
  BOOST_TEST(fs::is_regular_file(host / vfio::sim::kHostMarker));
  fs::create_symlink("../outside", host / "escape");  // left by someone: must not be followed
  write_text(host / "stray", "left over\n");

  vfio::sim::write_sysfs_tree(example("no-iommu.yaml"), host);
  BOOST_TEST(fs::exists(outside / "keep"));
  BOOST_TEST(!fs::exists(fs::symlink_status(host / "escape")));
  BOOST_TEST(!fs::exists(host / "stray"));
  BOOST_TEST(!fs::exists(host / "bus/pci/devices/0000:01:00.0"));  // the workstation's GPU
  BOOST_TEST(fs::exists(host / "bus/pci/devices/0000:00:04.0"));
  BOOST_TEST(fs::is_regular_file(host / vfio::sim::kHostMarker));
}

BOOST_AUTO_TEST_CASE(writes_into_an_empty_or_missing_directory) {
  ScratchDir dir;
  vfio::sim::write_sysfs_tree(example("acs-less-bridge.yaml"), dir.path());
  BOOST_TEST(fs::exists(dir.path() / "bus/pci/devices/0000:01:04.0"));
  vfio::sim::write_sysfs_tree(example("acs-less-bridge.yaml"), dir.path() / "a/b");
  BOOST_TEST(fs::exists(dir.path() / "a/b/bus/pci/devices/0000:01:04.0"));
}

BOOST_AUTO_TEST_CASE(names_that_would_leave_the_root_are_refused_before_writing) {
  Topology t = example("no-iommu.yaml");
  t.devices.front().bound_driver = "../../escape";
  ScratchDir dir;
  BOOST_CHECK_THROW(vfio::sim::write_sysfs_tree(t, dir.path() / "host"), std::invalid_argument);
  BOOST_TEST(!fs::exists(dir.path() / "host"));
}
