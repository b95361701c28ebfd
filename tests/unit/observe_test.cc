#define BOOST_TEST_MODULE observe
#include <boost/test/unit_test.hpp>

#include <fstream>

#include <boost/filesystem.hpp>

#include "cli/status_json.h"
#include "observe/observe.h"
#include "sim/kernel_simulator.h"
#include "sim/sysfs_tree_writer.h"
#include "sim/topology_yaml.h"
#include "sysfs/kernel_names.h"
#include "sysfs/real_sysfs.h"
#include "test_support.h"

using namespace vfio;
using sim::KernelSimulator;
using sim::Topology;
namespace fs = boost::filesystem;

namespace {

const char* const kExampleHosts[] = {"workstation", "gpu-server", "acs-less-bridge", "no-iommu"};

// A topology laid out on disk for the duration of a test.
struct DiskHost {
  explicit DiskHost(const Topology& topology) : scratch("observe"), root(scratch.path()) {
    sim::write_sysfs_tree(topology, root);
  }
  fs::path device_dir(const char* address) const {
    return fs::canonical(root / "bus/pci/devices" / address);
  }
  test::ScratchDir scratch;
  fs::path root;
};

// Devices and groups as scripts see them: two observations agree when these are equal.
std::string devices_and_groups(const HostSnapshot& s) {
  auto j = cli::status_json(s, NoDeviceNames{});
  j.erase("findings");
  return j.dump(1);
}

bool has_finding(const HostSnapshot& s, const std::string& path_part, const std::string& text) {
  for (const auto& f : s.findings) {
    if (f.path.find(path_part) != std::string::npos && f.message.find(text) != std::string::npos)
      return true;
  }
  return false;
}

const char* const kSmallHost = R"(
name: small
devices:
  - { address: "0000:00:01.0", ids: "8086:1901", class: "0x060400", group: 1, driver: pcieport }
  - { address: "0000:01:00.0", parent: "0000:00:01.0", ids: "10de:2684", class: "0x030000",
      group: 1, driver: nouveau, boot-vga: true }
  - { address: "0000:01:00.1", parent: "0000:00:01.0", ids: "10de:22ba", class: "0x040300",
      group: 1, driver: snd_hda_intel, bound: none, override: vfio-pci }
  - { address: "0000:02:00.0", ids: "8086:10d3", class: "0x020000", group: 2, driver: e1000e,
      numa-node: 1 }
)";

// Rewrites the line of `file` that starts with `key` (an on-disk uevent) as `line`.
void replace_line(const fs::path& file, const std::string& key, const std::string& line) {
  std::ifstream in(file.string());
  std::string text, l;
  bool found = false;
  while (std::getline(in, l)) {
    if (l.rfind(key, 0) == 0) {
      l = line;
      found = true;
    }
    text += l + "\n";
  }
  BOOST_REQUIRE_MESSAGE(found, file.string() + " has no " + key);
  in.close();
  std::ofstream(file.string(), std::ios::trunc) << text;
}

}  // namespace

BOOST_AUTO_TEST_CASE(sees_a_pfs_vf_autoprobe_turned_off) {
  KernelSimulator kernel(test::example_host("gpu-server"));
  const PciAddress e810 = *PciAddress::parse("0000:5e:00.0");
  BOOST_REQUIRE(kernel.write(paths::pci_device_file(e810, "sriov_drivers_autoprobe"), "0"));
  const HostSnapshot s = observe(kernel);
  BOOST_TEST(s.findings.empty());
  BOOST_REQUIRE(s.find(e810)->sriov);
  BOOST_TEST(!s.find(e810)->sriov->drivers_autoprobe);
  BOOST_TEST(s.find(e810)->sriov->enabled_vfs == 4u);
}

BOOST_AUTO_TEST_CASE(sees_what_the_topology_holds_on_every_example_host) {
  for (const char* name : kExampleHosts) {
    BOOST_TEST_CONTEXT(name) {
      Topology topology = test::example_host(name);
      KernelSimulator kernel(topology);
      HostSnapshot s = observe(kernel);
      BOOST_TEST(s.findings.empty());
      BOOST_REQUIRE(s.devices.size() == topology.devices.size());
      for (const auto& want : topology.devices) {
        const PciDevice* got = s.find(want.address);
        BOOST_REQUIRE(got);
        BOOST_TEST_CONTEXT(want.address.str()) {
          BOOST_TEST(got->ids.vendor == want.vendor);
          BOOST_TEST(got->ids.device == want.device);
          BOOST_TEST(got->ids.subsystem_vendor == want.subsystem_vendor);
          BOOST_TEST(got->ids.subsystem_device == want.subsystem_device);
          BOOST_TEST(got->ids.class_code == want.class_code);
          BOOST_TEST(static_cast<int>(got->kind) == static_cast<int>(want.header));
          BOOST_TEST((got->kind_source == KindSource::ConfigHeader));
          BOOST_TEST((got->driver == want.bound_driver));
          BOOST_TEST((got->driver_override == want.driver_override));
          BOOST_TEST((got->iommu_group == want.iommu_group));
          BOOST_TEST((got->physfn == want.physfn));
          BOOST_TEST(got->numa_node.value_or(-1) == want.numa_node);
          if (want.boot_vga) BOOST_TEST((got->boot_vga == want.boot_vga));
          BOOST_TEST(got->sriov.has_value() == (want.sriov_total_vfs > 0));
          if (got->sriov) {
            BOOST_TEST(got->sriov->drivers_autoprobe == want.sriov_drivers_autoprobe);
            BOOST_TEST((got->sriov->offset == std::optional<unsigned>(want.vf_template.offset)));
            BOOST_TEST((got->sriov->stride == std::optional<unsigned>(want.vf_template.stride)));
          }
        }
      }
      // Every VF is listed by its PF, in order, and the PF's count agrees.
      for (const auto& d : s.devices) {
        if (!d.physfn) continue;
        const PciDevice* pf = s.find(*d.physfn);
        BOOST_REQUIRE(pf);
        BOOST_REQUIRE(pf->sriov);
        BOOST_TEST(std::count(pf->sriov->vfs.begin(), pf->sriov->vfs.end(), d.address) == 1);
        BOOST_TEST(pf->sriov->enabled_vfs == pf->sriov->vfs.size());
      }
      for (const auto& [id, group] : s.groups) {
        for (const auto& member : group.members) BOOST_TEST((s.find(member)->iommu_group == id));
      }
      BOOST_TEST(s.iommu_active() == topology.iommu);
      BOOST_TEST(s.vfio_pci_loaded == (topology.vfio_pci == Topology::VfioPci::Loaded));
    }
  }
}

BOOST_AUTO_TEST_CASE(an_on_disk_host_observes_exactly_like_the_simulator) {
  for (const char* name : kExampleHosts) {
    BOOST_TEST_CONTEXT(name) {
      KernelSimulator kernel(test::example_host(name));
      DiskHost disk(kernel.topology());
      RealSysfs real(disk.root);
      HostSnapshot from_disk = observe(real);
      BOOST_TEST(from_disk.findings.empty());
      BOOST_TEST(devices_and_groups(from_disk) == devices_and_groups(observe(kernel)));
    }
  }
}

BOOST_AUTO_TEST_CASE(the_planning_level_sees_what_the_planner_needs_and_no_more) {
  for (const char* name : kExampleHosts) {
    BOOST_TEST_CONTEXT(name) {
      KernelSimulator kernel(test::example_host(name));
      const HostSnapshot full = observe(kernel);
      const HostSnapshot planning = observe(kernel, ObserveDetail::Planning);
      BOOST_TEST(planning.findings.empty());
      BOOST_REQUIRE(planning.devices.size() == full.devices.size());
      for (std::size_t i = 0; i < full.devices.size(); ++i) {
        const PciDevice& want = full.devices[i];
        const PciDevice& got = planning.devices[i];
        BOOST_TEST_CONTEXT(want.address.str()) {
          BOOST_TEST((got.address == want.address));
          BOOST_TEST(got.ids.vendor == want.ids.vendor);
          BOOST_TEST(got.ids.device == want.ids.device);
          BOOST_TEST(got.ids.subsystem_vendor == want.ids.subsystem_vendor);
          BOOST_TEST(got.ids.subsystem_device == want.ids.subsystem_device);
          BOOST_TEST(got.ids.class_code == want.ids.class_code);
          BOOST_TEST((got.kind == want.kind));
          BOOST_TEST((got.kind_source == want.kind_source));
          BOOST_TEST((got.driver == want.driver));
          BOOST_TEST((got.driver_override == want.driver_override));
          BOOST_TEST((got.iommu_group == want.iommu_group));
          BOOST_TEST((got.boot_vga == want.boot_vga));
          // Only `status` shows these: left unset.
          BOOST_TEST(!got.numa_node);
          BOOST_TEST(!got.label);
          BOOST_TEST(!got.physfn);
          BOOST_TEST(!got.sriov);
        }
      }
      BOOST_REQUIRE(planning.groups.size() == full.groups.size());
      for (const auto& [id, group] : full.groups)
        BOOST_TEST((planning.groups.at(id).members == group.members));
      BOOST_TEST((planning.iommu_units == full.iommu_units));
      BOOST_TEST(planning.vfio_pci_loaded == full.vfio_pci_loaded);
    }
  }
}

BOOST_AUTO_TEST_CASE(reads_bindings_and_overrides) {
  KernelSimulator kernel(sim::parse_topology(kSmallHost, "small.yaml"));
  HostSnapshot s = observe(kernel);
  const PciDevice* audio = s.find(*PciAddress::parse("0000:01:00.1"));
  BOOST_REQUIRE(audio);
  BOOST_TEST(!audio->driver);
  BOOST_TEST(audio->driver_override.value_or("") == "vfio-pci");
  const PciDevice* gpu = s.find(*PciAddress::parse("0000:01:00.0"));
  BOOST_TEST(!gpu->driver_override);  // "(null)" means none
  BOOST_TEST(gpu->boot_vga.value_or(false));
  BOOST_TEST(gpu->driver.value_or("") == "nouveau");
  BOOST_TEST((s.find(*PciAddress::parse("0000:00:01.0"))->kind == DeviceKind::Bridge));
  BOOST_TEST(s.find(*PciAddress::parse("0000:02:00.0"))->numa_node.value_or(-1) == 1);
  BOOST_TEST(s.groups.at(1).members.size() == 3u);
}

BOOST_AUTO_TEST_CASE(follows_the_kernel_as_it_changes) {
  KernelSimulator kernel(sim::parse_topology(kSmallHost, "small.yaml"));
  auto nic = *PciAddress::parse("0000:02:00.0");
  BOOST_REQUIRE(kernel.write(paths::pci_device_file(nic, "driver_override"), "vfio-pci").ok());
  BOOST_REQUIRE(kernel.write(paths::pci_driver_file("e1000e", "unbind"), nic.str()).ok());
  BOOST_REQUIRE(kernel.write(paths::drivers_probe(), nic.str()).ok());
  HostSnapshot s = observe(kernel);
  BOOST_TEST(s.find(nic)->driver.value_or("") == "vfio-pci");
  BOOST_TEST(s.find(nic)->driver_override.value_or("") == "vfio-pci");
}

BOOST_AUTO_TEST_CASE(a_device_that_vanishes_mid_read_is_left_out_and_reported) {
  KernelSimulator kernel(sim::parse_topology(kSmallHost, "small.yaml"));
  auto gpu = *PciAddress::parse("0000:01:00.0");
  kernel.vanish_after(gpu, 3);
  HostSnapshot s = observe(kernel);
  BOOST_TEST(!s.find(gpu));
  BOOST_TEST(s.devices.size() == 3u);
  BOOST_TEST(has_finding(s, "0000:01:00.0", "vanished while being read"));
  BOOST_TEST(std::any_of(s.findings.begin(), s.findings.end(), [&](const Finding& f) {
    return f.kind == Finding::Kind::DeviceVanished && f.device == gpu;
  }));
  // Its group was listed before it went, so the snapshot still shows the group was not whole.
  BOOST_TEST(s.groups.at(1).members.size() == 3u);
}

BOOST_AUTO_TEST_CASE(odd_attributes_are_findings_not_failures) {
  DiskHost disk(sim::parse_topology(kSmallHost, "small.yaml"));
  fs::path nic = disk.device_dir("0000:02:00.0");
  fs::path gpu = disk.device_dir("0000:01:00.0");
  fs::path port = disk.device_dir("0000:00:01.0");
  replace_line(nic / "uevent", "PCI_ID=", "PCI_ID=intel:10D3");
  std::ofstream((gpu / "boot_vga").string()) << "maybe\n";
  fs::remove(gpu / "numa_node");  // kernels without CONFIG_NUMA have none: not odd
  fs::remove(port / "config");    // the kind falls back to the class code (a bridge)
  std::ofstream((disk.root / "bus/pci/devices/not-a-device").string());
  RealSysfs real(disk.root);
  HostSnapshot s = observe(real);

  BOOST_TEST(s.devices.size() == 4u);
  BOOST_TEST(has_finding(s, "0000:02:00.0/uevent", "unexpected line 'PCI_ID=intel:10D3'"));
  BOOST_TEST(s.find(*PciAddress::parse("0000:02:00.0"))->ids.device == 0x10d3);
  BOOST_TEST(has_finding(s, "0000:01:00.0/boot_vga", "unexpected value 'maybe'"));
  BOOST_TEST(!has_finding(s, "0000:01:00.0/numa_node", ""));
  BOOST_TEST(!s.find(*PciAddress::parse("0000:01:00.0"))->numa_node);
  const PciDevice* p = s.find(*PciAddress::parse("0000:00:01.0"));
  BOOST_TEST((p->kind == DeviceKind::Bridge));
  BOOST_TEST((p->kind_source == KindSource::ClassCode));
  BOOST_TEST(has_finding(s, "bus/pci/devices/not-a-device", "not a PCI address"));
}

BOOST_AUTO_TEST_CASE(without_uevent_the_attribute_files_give_the_same_snapshot) {
  for (const char* name : kExampleHosts) {
    BOOST_TEST_CONTEXT(name) {
      KernelSimulator kernel(test::example_host(name));
      DiskHost disk(kernel.topology());
      for (const auto& d : kernel.topology().devices)
        fs::remove(disk.device_dir(d.address.str().c_str()) / "uevent");
      RealSysfs real(disk.root);
      HostSnapshot from_files = observe(real);
      BOOST_TEST(from_files.findings.empty());  // a missing uevent is not odd
      BOOST_TEST(devices_and_groups(from_files) == devices_and_groups(observe(kernel)));
    }
  }
}

BOOST_AUTO_TEST_CASE(a_malformed_uevent_is_a_finding_and_the_files_are_read) {
  DiskHost disk(sim::parse_topology(kSmallHost, "small.yaml"));
  RealSysfs real(disk.root);
  const std::string before = devices_and_groups(observe(real));
  fs::path gpu = disk.device_dir("0000:01:00.0");
  // A wrong id and no driver in uevent: neither is believed; the files and the link are.
  std::ofstream((gpu / "uevent").string(), std::ios::trunc)
      << "PCI_CLASS=30000\nPCI_ID=10DE:XYZ\nPCI_SUBSYS_ID=0000:0000\n";
  HostSnapshot s = observe(real);
  BOOST_TEST(has_finding(s, "0000:01:00.0/uevent", "unexpected line 'PCI_ID=10DE:XYZ'"));
  BOOST_TEST(s.findings.size() == 1u);
  BOOST_TEST(devices_and_groups(s) == before);
  const PciDevice* p = s.find(*PciAddress::parse("0000:01:00.0"));
  BOOST_TEST(p->ids.device == 0x2684);
  BOOST_TEST(p->driver.value_or("") == "nouveau");
}

BOOST_AUTO_TEST_CASE(a_short_config_falls_back_to_the_class) {
  DiskHost disk(sim::parse_topology(kSmallHost, "small.yaml"));
  std::ofstream((disk.device_dir("0000:00:01.0") / "config").string()) << "0123456789";
  RealSysfs real(disk.root);
  HostSnapshot s = observe(real);
  const PciDevice* p = s.find(*PciAddress::parse("0000:00:01.0"));
  BOOST_TEST((p->kind == DeviceKind::Bridge));
  BOOST_TEST((p->kind_source == KindSource::ClassCode));
  BOOST_TEST(has_finding(s, "0000:00:01.0/config", "only 10 bytes"));
}

BOOST_AUTO_TEST_CASE(a_group_link_its_group_does_not_list_is_reported) {
  DiskHost disk(sim::parse_topology(kSmallHost, "small.yaml"));
  fs::remove(disk.root / "kernel/iommu_groups/2/devices/0000:02:00.0");
  RealSysfs real(disk.root);
  HostSnapshot s = observe(real);
  BOOST_TEST(has_finding(s, "0000:02:00.0/iommu_group", "does not include it"));
  BOOST_TEST(s.groups.at(2).members.empty());
}

BOOST_AUTO_TEST_CASE(no_iommu_and_no_vfio_pci) {
  KernelSimulator kernel(test::example_host("no-iommu"));
  HostSnapshot s = observe(kernel);
  BOOST_TEST(!s.iommu_active());
  BOOST_TEST(s.groups.empty());
  BOOST_TEST(!s.vfio_pci_loaded);
  for (const auto& d : s.devices) BOOST_TEST(!d.iommu_group);
  kernel.load_vfio_pci();
  BOOST_TEST(observe(kernel).vfio_pci_loaded);
}

BOOST_AUTO_TEST_CASE(a_root_without_a_pci_bus_is_the_one_fatal_case) {
  test::ScratchDir empty("observe-empty");
  RealSysfs real(empty.path());
  BOOST_CHECK_THROW(observe(real), ObserveError);
}

namespace {

std::vector<std::string> addresses_of(const HostSnapshot& s) {
  std::vector<std::string> out;
  for (const auto& d : s.devices) out.push_back(d.address.str());
  return out;
}

std::vector<unsigned> groups_of(const HostSnapshot& s) {
  std::vector<unsigned> out;
  for (const auto& [id, group] : s.groups) out.push_back(id);
  return out;
}

// Each device of `part` is as `whole` saw it.
void same_as_whole(const HostSnapshot& part, const HostSnapshot& whole) {
  for (const auto& got : part.devices) {
    BOOST_TEST_CONTEXT(got.address.str()) {
      const PciDevice* want = whole.find(got.address);
      BOOST_TEST_REQUIRE(want);
      BOOST_TEST(got.ids.class_code == want->ids.class_code);
      BOOST_TEST((got.kind == want->kind));
      BOOST_TEST((got.driver == want->driver));
      BOOST_TEST((got.driver_override == want->driver_override));
      BOOST_TEST((got.iommu_group == want->iommu_group));
      BOOST_TEST((got.boot_vga == want->boot_vga));
      BOOST_TEST((got.sriov.has_value() == want->sriov.has_value()));
      BOOST_TEST((got.physfn == want->physfn));
    }
  }
  for (const auto& [id, group] : part.groups)
    BOOST_TEST((group.members == whole.groups.at(id).members));
  BOOST_TEST((part.iommu_units == whole.iommu_units));
  BOOST_TEST(part.vfio_pci_loaded == whole.vfio_pci_loaded);
}

}  // namespace

// observe_scope (issue 18): every device is read for its identity, and only what the plan is
// about in full, with its whole IOMMU group; nothing else is in the snapshot.
BOOST_AUTO_TEST_CASE(a_scope_reads_the_devices_wanted_with_their_groups_and_no_more) {
  KernelSimulator kernel(test::example_host("workstation"));
  ObserveScope scope;
  std::vector<std::string> asked;
  scope.wanted = [&](const PciDevice& d) {
    asked.push_back(d.address.str());
    // Identity only: ids, class and driver, no group yet.
    BOOST_TEST(!d.iommu_group);
    return d.ids.vendor == 0x10de && d.ids.device == 0x2684;
  };
  const HostSnapshot s = observe_scope(kernel, scope);
  const HostSnapshot whole = observe(kernel, ObserveDetail::Planning);
  BOOST_TEST(asked.size() == whole.devices.size());  // every device, once
  BOOST_TEST(
      addresses_of(s) == (std::vector<std::string>{"0000:00:01.0", "0000:01:00.0", "0000:01:00.1"}),
      boost::test_tools::per_element());
  BOOST_TEST(groups_of(s) == std::vector<unsigned>{1}, boost::test_tools::per_element());
  BOOST_TEST(s.findings.empty());
  same_as_whole(s, whole);
}

BOOST_AUTO_TEST_CASE(a_scope_reads_the_recorded_groups_and_devices_where_present) {
  KernelSimulator kernel(test::example_host("workstation"));
  ObserveScope scope;
  scope.groups = {1, 4242};  // 4242: a group the record holds that is no more
  scope.addresses = {PciAddress{0, 0, 0x14, 0}, PciAddress{0, 0x42, 0, 0}};  // 42:00.0 is gone
  const HostSnapshot s = observe_scope(kernel, scope);
  const HostSnapshot whole = observe(kernel, ObserveDetail::Planning);
  const unsigned usb_group = *whole.find(PciAddress{0, 0, 0x14, 0})->iommu_group;
  for (const unsigned g : {1u, usb_group}) {
    for (const auto& m : whole.groups.at(g).members) BOOST_TEST(s.find(m) != nullptr, m.str());
  }
  BOOST_TEST(s.devices.size() ==
             whole.groups.at(1).members.size() + whole.groups.at(usb_group).members.size());
  BOOST_TEST(!s.groups.count(4242));
  BOOST_TEST(s.findings.empty());  // what is gone is simply not here
  same_as_whole(s, whole);
}

BOOST_AUTO_TEST_CASE(a_scope_brings_in_a_pfs_vfs_and_a_vfs_pf) {
  KernelSimulator kernel(test::example_host("gpu-server"));
  const HostSnapshot whole = observe(kernel, ObserveDetail::PlanningSriov);
  const PciDevice* pf = whole.find(PciAddress{0, 0x5e, 0, 0});
  BOOST_TEST_REQUIRE((pf && pf->sriov && pf->sriov->vfs.size() == 4u));
  const PciAddress vf = pf->sriov->vfs[2];
  ObserveScope scope;
  scope.wanted = [&](const PciDevice& d) { return d.address == vf; };
  // With SR-IOV read: the VF brings its PF, the PF its other VFs, each with its group.
  const HostSnapshot s = observe_scope(kernel, scope, ObserveDetail::PlanningSriov);
  BOOST_TEST(s.find(pf->address) != nullptr);
  for (const auto& each : pf->sriov->vfs) BOOST_TEST(s.find(each) != nullptr, each.str());
  BOOST_TEST(s.groups.count(*pf->iommu_group) == 1u);
  BOOST_TEST(s.find(PciAddress{0, 0x5d, 0, 0}) == nullptr);  // its root port: a group of its own
  BOOST_TEST(s.find(PciAddress{0, 0xd8, 0, 0}) == nullptr);  // another NIC: not asked for
  same_as_whole(s, whole);
  // Without: the VF and its group alone.
  const HostSnapshot planning = observe_scope(kernel, scope, ObserveDetail::Planning);
  BOOST_TEST(addresses_of(planning) == std::vector<std::string>{vf.str()},
             boost::test_tools::per_element());
}

namespace {

// The kernel, but the first read of one device's iommu_group link fails (EIO), as a link read
// while the host changes may.
class FirstGroupLinkFails final : public Sysfs {
 public:
  FirstGroupLinkFails(Sysfs& inner, SysPath link) : inner_(inner), link_(std::move(link)) {}
  Result<std::string> read(const SysPath& p, std::size_t max) override {
    return inner_.read(p, max);
  }
  Result<std::string> read_link(const SysPath& p) override {
    if (p.components() == link_.components() && !failed_) {
      failed_ = true;
      return IoError{IoError::Op::ReadLink, inner_.display(p), EIO, {}};
    }
    return inner_.read_link(p);
  }
  Result<std::vector<std::string>> list(const SysPath& p) override { return inner_.list(p); }
  Result<void> write(const SysPath& p, std::string_view v) override { return inner_.write(p, v); }
  std::string display(const SysPath& p) const override { return inner_.display(p); }

 private:
  Sysfs& inner_;
  SysPath link_;
  bool failed_ = false;
};

}  // namespace

// A wanted device whose group link could not be read at first, but names a group when the device
// is read in full: that group is read whole too, never left half seen.
BOOST_AUTO_TEST_CASE(a_scope_reads_the_group_a_device_names_when_read_in_full) {
  KernelSimulator kernel(test::example_host("workstation"));
  const PciAddress gpu{0, 1, 0, 0};
  FirstGroupLinkFails flaky(kernel, paths::pci_device_file(gpu, "iommu_group"));
  ObserveScope scope;
  scope.wanted = [&](const PciDevice& d) { return d.address == gpu; };
  const HostSnapshot s = observe_scope(flaky, scope);
  BOOST_TEST(
      addresses_of(s) == (std::vector<std::string>{"0000:00:01.0", "0000:01:00.0", "0000:01:00.1"}),
      boost::test_tools::per_element());
  BOOST_TEST(groups_of(s) == std::vector<unsigned>{1}, boost::test_tools::per_element());
  BOOST_TEST(s.findings.empty());
}
