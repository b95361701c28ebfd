#define BOOST_TEST_MODULE large_host
#include <boost/test/unit_test.hpp>

#include <map>
#include <set>
#include <stdexcept>
#include <string>

#include <fmt/format.h>

#include "cli/status_json.h"
#include "observe/observe.h"
#include "sim/kernel_simulator.h"
#include "sim/large_host.h"
#include "sim/sysfs_tree_writer.h"
#include "sysfs/real_sysfs.h"
#include "test_support.h"

using namespace vfio;
using sim::HeaderType;
using sim::LargeHostSpec;
using sim::Topology;
using sim::TopologyDevice;

namespace {

// Every field of every device, for comparing two generations.
std::string dump(const Topology& t) {
  std::string out;
  for (const auto& d : t.devices) {
    out += fmt::format(
        "{} {} {:04x}:{:04x} {:04x}:{:04x} {:06x} {} {} {} {} {} {} {} {} {}\n", d.address.str(),
        d.parent ? d.parent->str() : "-", d.vendor, d.device, d.subsystem_vendor,
        d.subsystem_device, d.class_code, static_cast<int>(d.header),
        d.iommu_group ? std::to_string(*d.iommu_group) : "-", d.host_driver.value_or("-"),
        d.bound_driver.value_or("-"), d.driver_override.value_or("-"), d.numa_node,
        d.physfn ? d.physfn->str() : "-", d.sriov_total_vfs, d.label.value_or("-"));
  }
  for (const auto& driver : t.drivers) out += driver.name + "\n";
  return out;
}

std::map<unsigned, std::vector<const TopologyDevice*>> groups_of(const Topology& t) {
  std::map<unsigned, std::vector<const TopologyDevice*>> groups;
  for (const auto& d : t.devices)
    if (d.iommu_group) groups[*d.iommu_group].push_back(&d);
  return groups;
}

}  // namespace

BOOST_AUTO_TEST_CASE(makes_exactly_the_devices_asked_for) {
  for (std::size_t n :
       {std::size_t{300}, std::size_t{500}, std::size_t{1234}, std::size_t{10000}}) {
    BOOST_TEST_CONTEXT(n) {
      LargeHostSpec spec;
      spec.devices = n;
      BOOST_TEST(sim::make_large_host(spec).devices.size() == n);
    }
  }
  LargeHostSpec spec;
  BOOST_TEST(sim::make_large_host().devices.size() == 10000u);
  BOOST_TEST(sim::large_host_fixed_devices(spec) < 300u);
  spec.devices = sim::large_host_fixed_devices(spec);
  BOOST_TEST(sim::make_large_host(spec).devices.size() == spec.devices);
  spec.devices = sim::large_host_max_devices(spec);
  BOOST_TEST(sim::make_large_host(spec).devices.size() == spec.devices);
  ++spec.devices;
  BOOST_CHECK_THROW(sim::make_large_host(spec), std::invalid_argument);
  spec.devices = sim::large_host_fixed_devices(spec) - 1;
  BOOST_CHECK_THROW(sim::make_large_host(spec), std::invalid_argument);
  spec.devices = 10000;
  spec.gpus = 12;
  BOOST_CHECK_THROW(sim::make_large_host(spec), std::invalid_argument);
}

BOOST_AUTO_TEST_CASE(is_deterministic) {
  BOOST_TEST(dump(sim::make_large_host()) == dump(sim::make_large_host()));
}

BOOST_AUTO_TEST_CASE(addresses_are_unique_and_sorted_and_parents_are_bridges) {
  const Topology t = sim::make_large_host();
  std::map<PciAddress, const TopologyDevice*> by_address;
  for (std::size_t i = 0; i < t.devices.size(); ++i) {
    if (i > 0) BOOST_TEST((t.devices[i - 1].address < t.devices[i].address));
    BOOST_TEST(by_address.emplace(t.devices[i].address, &t.devices[i]).second);
  }
  std::set<uint32_t> domains;
  for (const auto& d : t.devices) {
    domains.insert(d.address.domain());
    // The address is one PciAddress::parse accepts back.
    BOOST_TEST((PciAddress::parse(d.address.str()) == d.address));
    if (!d.parent) continue;
    auto parent = by_address.find(*d.parent);
    BOOST_REQUIRE(parent != by_address.end());
    BOOST_TEST(static_cast<int>(parent->second->header) == static_cast<int>(HeaderType::Bridge));
    BOOST_TEST((parent->second->class_code >> 8) == 0x0604u);
    BOOST_TEST(parent->second->address.domain() == d.address.domain());
  }
  BOOST_TEST((domains == std::set<uint32_t>{0x0000, 0x0001, 0x10000, 0x10001}));
  std::set<int> nodes;
  for (const auto& d : t.devices) nodes.insert(d.numa_node);
  BOOST_TEST((nodes == std::set<int>{0, 1}));
}

BOOST_AUTO_TEST_CASE(vfs_belong_to_pfs_and_span_several_buses) {
  const Topology t = sim::make_large_host();
  std::map<PciAddress, unsigned> vfs_of;
  std::set<std::pair<uint32_t, uint8_t>> vf_buses;
  std::size_t vfs = 0;
  for (const auto& d : t.devices) {
    if (!d.physfn) continue;
    ++vfs;
    const TopologyDevice* pf = t.find(*d.physfn);
    BOOST_REQUIRE(pf);
    BOOST_TEST(!pf->physfn);
    BOOST_TEST(pf->sriov_total_vfs > 0u);
    BOOST_TEST((d.parent == pf->parent));
    BOOST_TEST(d.address.domain() == pf->address.domain());
    BOOST_TEST(d.address.routing_id() > pf->address.routing_id());
    ++vfs_of[pf->address];
    vf_buses.insert({d.address.domain(), d.address.bus()});
  }
  BOOST_TEST(vfs > 9000u);
  BOOST_TEST(vf_buses.size() > 20u);
  for (const auto& [pf, count] : vfs_of) BOOST_TEST(count <= t.find(pf)->sriov_total_vfs);
  std::set<std::string> drivers;
  for (const auto& d : t.drivers) drivers.insert(d.name);
  for (const char* want : {"nvidia", "snd_hda_intel", "mlx5_core", "ice", "iavf", "nvme",
                           "pcieport", "vmd", "vfio-pci"})
    BOOST_TEST(drivers.count(want) == 1u, want);
}

BOOST_AUTO_TEST_CASE(groups_are_consistent) {
  const Topology t = sim::make_large_host();
  const auto groups = groups_of(t);
  std::size_t ungrouped = 0, gpus = 0, shared_endpoint_groups = 0;
  for (const auto& d : t.devices) {
    if (!d.iommu_group) {
      ++ungrouped;
      BOOST_TEST((d.bound_driver != "vfio-pci"));
      continue;
    }
    const auto& members = groups.at(*d.iommu_group);
    if (d.physfn) BOOST_TEST(members.size() == 1u);  // every VF alone
    if (d.bound_driver == "vfio-pci") BOOST_TEST((d.driver_override == "vfio-pci"));
    if ((d.class_code >> 8) == 0x0300 && d.vendor == 0x10de) {
      ++gpus;
      // The GPU and its audio function: a multifunction device sharing one group.
      const TopologyDevice* audio =
          t.find(PciAddress(d.address.domain(), d.address.bus(), d.address.device(), 1));
      BOOST_REQUIRE(audio);
      BOOST_TEST((audio->class_code >> 8) == 0x0403u);
      BOOST_TEST((audio->iommu_group == d.iommu_group));
      BOOST_TEST(sim::is_multifunction(t, d));
    }
  }
  for (const auto& [id, members] : groups) {
    std::size_t endpoints = 0;
    for (const auto* m : members) endpoints += m->header == HeaderType::Endpoint ? 1 : 0;
    if (endpoints >= 3) ++shared_endpoint_groups;
  }
  BOOST_TEST(gpus == 16u);
  BOOST_TEST(ungrouped > 0u);
  // The ACS-less switches and VMD domains (one each per socket).
  BOOST_TEST(shared_endpoint_groups >= 4u);
}

BOOST_AUTO_TEST_CASE(writes_to_disk_and_observes_without_findings) {
  LargeHostSpec spec;
  spec.devices = 500;
  const Topology t = sim::make_large_host(spec);
  test::ScratchDir dir("large-host");
  sim::write_sysfs_tree(t, dir.path());
  RealSysfs sysfs(dir.path());
  const HostSnapshot s = observe(sysfs);
  for (const auto& f : s.findings) BOOST_TEST_MESSAGE(f.path << ": " << f.message);
  BOOST_TEST(s.findings.empty());
  BOOST_REQUIRE(s.devices.size() == t.devices.size());
  for (std::size_t i = 0; i < t.devices.size(); ++i) {
    const auto& want = t.devices[i];
    const auto& got = s.devices[i];
    BOOST_TEST_CONTEXT(want.address.str()) {
      BOOST_TEST((got.address == want.address));
      BOOST_TEST(got.ids.vendor == want.vendor);
      BOOST_TEST(got.ids.device == want.device);
      BOOST_TEST(got.ids.class_code == want.class_code);
      BOOST_TEST(static_cast<int>(got.kind) == static_cast<int>(want.header));
      BOOST_TEST((got.driver == want.bound_driver));
      BOOST_TEST((got.driver_override == want.driver_override));
      BOOST_TEST((got.iommu_group == want.iommu_group));
      BOOST_TEST((got.physfn == want.physfn));
      BOOST_TEST(got.numa_node.value_or(-1) == want.numa_node);
      BOOST_TEST((got.label == want.label));
      BOOST_TEST(got.sriov.has_value() == (want.sriov_total_vfs > 0));
      if (got.sriov) {
        BOOST_TEST(got.sriov->enabled_vfs == sim::enabled_vfs(t, want.address));
        BOOST_TEST(got.sriov->vfs.size() == got.sriov->enabled_vfs);
      }
    }
  }
  BOOST_TEST(s.groups.size() == groups_of(t).size());
  BOOST_TEST(s.vfio_pci_loaded);

  // Large enough that observe reads on several threads: through the simulator (which locks)
  // it sees exactly what it sees on disk.
  sim::KernelSimulator kernel(t);
  const HostSnapshot simulated = observe(kernel);
  BOOST_TEST(simulated.findings.empty());
  BOOST_TEST(cli::status_json(simulated, NoDeviceNames{}).dump(1) ==
             cli::status_json(s, NoDeviceNames{}).dump(1));
}
