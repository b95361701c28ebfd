#define BOOST_TEST_MODULE topology_yaml
#include <boost/test/unit_test.hpp>

#include <set>
#include <string>
#include <vector>

#include <boost/filesystem/operations.hpp>

#include "sim/topology_yaml.h"
#include "test_support.h"

using vfio::PciAddress;
using vfio::sim::HeaderType;
using vfio::sim::parse_topology;
using vfio::sim::Topology;
using vfio::sim::TopologyError;
namespace fs = boost::filesystem;

namespace {

using vfio::test::addr;

std::size_t group_count(const Topology& t) {
  std::set<unsigned> groups;
  for (const auto& d : t.devices)
    if (d.iommu_group) groups.insert(*d.iommu_group);
  return groups.size();
}

// The what() of the TopologyError that parsing `text` as "t.yaml" throws; "" when none.
std::string error_of(const std::string& text) {
  try {
    parse_topology(text, "t.yaml");
  } catch (const TopologyError& e) {
    return e.what();
  }
  return "";
}

const std::string kHeader = "name: t\n";  // line 1; devices start on line 2

}  // namespace

BOOST_AUTO_TEST_CASE(every_example_host_loads_and_is_named_after_its_file) {
  const auto files = vfio::test::example_host_files();
  BOOST_TEST(files.size() >= 4u);
  for (const auto& file : files) {
    Topology t;
    BOOST_CHECK_NO_THROW(t = vfio::sim::load_topology(file.string()));
    BOOST_TEST(t.name == file.stem().string());
    BOOST_TEST(!t.description.empty());
    BOOST_TEST(std::is_sorted(t.devices.begin(), t.devices.end(),
                              [](const auto& a, const auto& b) { return a.address < b.address; }));
  }
}

BOOST_AUTO_TEST_CASE(example_hosts_have_their_shapes) {
  const fs::path dir = fs::path(VFIO_SOURCE_DIR) / "examples/hosts";
  auto load = [&](const char* name) { return vfio::sim::load_topology((dir / name).string()); };

  Topology ws = load("workstation.yaml");
  BOOST_TEST(ws.devices.size() == 14u);
  BOOST_TEST(group_count(ws) == 8u);
  BOOST_TEST((ws.find(addr("0000:00:02.0"))->boot_vga == std::optional<bool>(true)));
  BOOST_TEST(
      (ws.find(addr("0000:01:00.0"))->iommu_group == ws.find(addr("0000:01:00.1"))->iommu_group));
  BOOST_TEST((ws.find(addr("0000:01:00.0"))->parent == std::optional(addr("0000:00:01.0"))));
  BOOST_TEST((ws.find_driver("xhci_hcd")->module == std::optional<std::string>("xhci_pci")));
  BOOST_TEST(ws.find_driver("vfio-pci"));

  Topology gs = load("gpu-server.yaml");
  BOOST_TEST(gs.devices.size() == 44u);
  BOOST_TEST(group_count(gs) == 38u);
  BOOST_TEST(gs.find(addr("10000:01:00.0")));
  std::set<int> numa;
  for (const auto& d : gs.devices) numa.insert(d.numa_node);
  BOOST_TEST((numa == std::set<int>{0, 1}));

  Topology acs = load("acs-less-bridge.yaml");
  BOOST_TEST(acs.devices.size() == 13u);
  BOOST_TEST(group_count(acs) == 6u);

  Topology none = load("no-iommu.yaml");
  BOOST_TEST(!none.iommu);
  BOOST_TEST(none.iommu_units.empty());
  BOOST_TEST(group_count(none) == 0u);
  BOOST_TEST((none.vfio_pci == Topology::VfioPci::Loadable));
  BOOST_TEST(!none.find_driver("vfio-pci"));
}

BOOST_AUTO_TEST_CASE(defaults_and_derived_values) {
  Topology t = parse_topology(kHeader + R"(devices:
  - { address: "0000:00:1c.0", ids: "8086:a190", class: "0x060400", group: 1, driver: pcieport }
  - { address: "0000:00:1d.0", ids: "104c:8240", class: "0x060700" }
  - { address: "0000:01:00.0", ids: "10de:2684", class: "0x030000", parent: "0000:00:1c.0", group: 2, driver: nouveau, bound: none, override: vfio-pci }
  - { address: "0000:02:00.0", ids: "8086:10d3", class: "0x020000", driver: my-driver }
)",
                              "t.yaml");
  BOOST_TEST(t.iommu);
  BOOST_TEST((t.iommu_units == std::vector<std::string>{"dmar0"}));
  BOOST_TEST((t.vfio_pci == Topology::VfioPci::Loaded));
  BOOST_TEST((t.find(addr("0000:00:1c.0"))->header == HeaderType::Bridge));
  BOOST_TEST((t.find(addr("0000:00:1d.0"))->header == HeaderType::CardBus));
  const auto* gpu = t.find(addr("0000:01:00.0"));
  BOOST_TEST((gpu->header == HeaderType::Endpoint));
  BOOST_TEST((gpu->host_driver == std::optional<std::string>("nouveau")));
  BOOST_TEST(!gpu->bound_driver);
  BOOST_TEST((gpu->driver_override == std::optional<std::string>("vfio-pci")));
  BOOST_TEST((gpu->boot_vga == std::optional<bool>(false)));  // VGA: present, false by default
  BOOST_TEST(gpu->numa_node == -1);
  BOOST_TEST(
      (t.find(addr("0000:00:1c.0"))->bound_driver == std::optional<std::string>("pcieport")));

  std::vector<std::string> names;
  for (const auto& d : t.drivers) names.push_back(d.name);
  BOOST_TEST((names == std::vector<std::string>{"my-driver", "nouveau", "pcieport", "vfio-pci"}));
  BOOST_TEST((t.find_driver("my-driver")->module == std::optional<std::string>("my_driver")));
  BOOST_TEST(!t.find_driver("pcieport")->module);
  BOOST_TEST(t.find_driver("pcieport")->dma_safe);
  BOOST_TEST((t.find_driver("vfio-pci")->module == std::optional<std::string>("vfio_pci")));
  BOOST_TEST(!t.find_driver("nouveau")->dma_safe);
}

BOOST_AUTO_TEST_CASE(drivers_section_sets_module_and_dma_safety) {
  Topology t = parse_topology(kHeader + R"(drivers:
  - { name: nvidia, module: nvidia_custom, dma-safe: false }
  - { name: pci-stub, module: ~ }
devices:
  - { address: "0000:01:00.0", ids: "10de:2684", class: "0x030000", driver: nvidia }
)",
                              "t.yaml");
  BOOST_TEST(error_of(kHeader + "drivers:\n  - { name: nvidia, module: nvidia-x }\ndevices: []\n")
                 .find("t.yaml:3:29: 'module': 'nvidia-x' is not a module name") == 0);
  BOOST_TEST((t.find_driver("nvidia")->module == std::optional<std::string>("nvidia_custom")));
  BOOST_TEST(!t.find_driver("nvidia")->dma_safe);
  Topology u = parse_topology(kHeader + R"(drivers:
  - { name: nvidia, dma-safe: true }
  - { name: pci-stub, module: ~ }
devices: []
)",
                              "t.yaml");
  BOOST_TEST(u.find_driver("nvidia")->dma_safe);
  BOOST_TEST((u.find_driver("nvidia")->module == std::optional<std::string>("nvidia")));
  BOOST_TEST(!u.find_driver("pci-stub")->module);
}

BOOST_AUTO_TEST_CASE(sriov_vfs_are_expanded_from_the_pf) {
  Topology t = parse_topology(kHeader + R"(devices:
  - { address: "0000:3a:00.0", ids: "8086:2030", class: "0x060400", group: 1, driver: pcieport }
  - address: "0000:3b:00.0"
    ids: "8086:1593"
    subsystem: "8086:0005"
    class: "0x020000"
    parent: "0000:3a:00.0"
    group: 2
    driver: ice
    numa-node: 1
    sriov: { total-vfs: 64, vfs: 3, vf-ids: "8086:1889", vf-driver: iavf, vf-offset: 16, vf-stride: 2, vf-group: 40 }
)",
                              "t.yaml");
  BOOST_TEST(t.devices.size() == 5u);
  const auto* pf = t.find(addr("0000:3b:00.0"));
  BOOST_TEST(pf->sriov_total_vfs == 64u);
  // What the simulator needs to make more VFs when sriov_numvfs is written.
  BOOST_TEST(pf->vf_template.offset == 16);
  BOOST_TEST(pf->vf_template.stride == 2);
  BOOST_TEST(pf->vf_template.device == 0x1889);
  BOOST_TEST((pf->vf_template.driver == std::optional<std::string>("iavf")));
  BOOST_TEST(pf->sriov_drivers_autoprobe);
  const char* expected[] = {"0000:3b:02.0", "0000:3b:02.2", "0000:3b:02.4"};
  for (unsigned i = 0; i < 3; ++i) {
    const auto* vf = t.find(addr(expected[i]));
    BOOST_REQUIRE_MESSAGE(vf, expected[i]);
    BOOST_TEST((vf->physfn == std::optional(addr("0000:3b:00.0"))));
    BOOST_TEST((vf->parent == std::optional(addr("0000:3a:00.0"))));
    BOOST_TEST(vf->vendor == 0x8086);
    BOOST_TEST(vf->device == 0x1889);
    BOOST_TEST(vf->subsystem_device == 0x0005);
    BOOST_TEST(vf->class_code == 0x020000u);
    BOOST_TEST(vf->numa_node == 1);
    BOOST_TEST((vf->iommu_group == std::optional<unsigned>(40 + i)));
    BOOST_TEST((vf->bound_driver == std::optional<std::string>("iavf")));
    BOOST_TEST(vf->sriov_total_vfs == 0u);
  }
  BOOST_TEST(t.find_driver("iavf"));
}

BOOST_AUTO_TEST_CASE(a_pf_without_vfs_needs_no_vf_group_and_may_have_vf_autoprobe_off) {
  Topology t = parse_topology(kHeader + R"(devices:
  - address: "0000:01:00.0"
    ids: "1b36:0010"
    class: "0x010802"
    group: 3
    driver: nvme
    sriov: { total-vfs: 3, vf-ids: "1b36:0010", vf-driver: nvme, drivers-autoprobe: false }
)",
                              "t.yaml");
  BOOST_TEST(t.devices.size() == 1u);
  BOOST_TEST(!t.devices[0].sriov_drivers_autoprobe);
  BOOST_TEST(t.devices[0].vf_template.offset == 1);
}

BOOST_AUTO_TEST_CASE(vfs_may_cross_onto_the_next_bus_and_keep_a_wide_domain) {
  Topology t = parse_topology(kHeader + R"(devices:
  - address: "10000:05:1f.7"
    ids: "15b3:101d"
    class: "0x020000"
    group: 1
    sriov: { total-vfs: 8, vfs: 2, vf-ids: "15b3:101e", vf-group: 10 }
)",
                              "t.yaml");
  BOOST_TEST(t.find(addr("10000:06:00.0")));
  BOOST_TEST(t.find(addr("10000:06:00.1")));
  BOOST_TEST(!t.find(addr("10000:06:00.0"))->bound_driver);
}

BOOST_AUTO_TEST_CASE(errors_name_file_line_and_column) {
  struct Case {
    std::string text;
    std::string expected;  // the whole message must start with this
  };
  const Case cases[] = {
      {kHeader + "devices:\n  - address: \"0000:00:00.0\"\n    ids: \"8086:1901\"\n"
                 "    clas: \"0x060000\"\n",
       "t.yaml:5:5: unknown key 'clas' in a device; did you mean 'class'?"},
      {kHeader + "iomu: true\ndevices: []\n",
       "t.yaml:2:1: unknown key 'iomu' in the topology; did you mean 'iommu'?"},
      {kHeader + "iommu: maybe\ndevices: []\n",
       "t.yaml:2:8: 'iommu' must be true or false, not 'maybe'"},
      {kHeader + "devices:\n  - address: \"0000:00:00.0\"\n    class: \"0x060000\"\n",
       "t.yaml:3:5: a device is missing required key 'ids'"},
      {"devices: []\n", "t.yaml:1:1: the topology is missing required key 'name'"},
      {kHeader + "devices: {}\n", "t.yaml:2:10: 'devices' must be a list, not a mapping"},
      {kHeader +
           "devices:\n  - { address: \"01:00.0\", ids: \"8086:1901\", class: \"0x060000\" }\n",
       "t.yaml:3:16: bad 'address': '01:00.0' has no PCI domain; did you mean '0000:01:00.0'?"},
      {kHeader +
           "devices:\n  - { address: \"0000:00:00.0\", ids: \"8086-1901\", class: \"0x060000\" }\n",
       "t.yaml:3:37: 'ids' must be vendor:device in hex"},
      {kHeader +
           "devices:\n  - { address: \"0000:00:00.0\", ids: \"8086:1901\", class: \"060000\" }\n",
       "t.yaml:3:57: 'class' must be 0x and 6 hex digits"},
      {kHeader + "devices:\n"
                 "  - { address: \"0000:00:00.0\", ids: \"8086:1901\", class: \"0x060000\" }\n"
                 "  - { address: \"0000:00:00.0\", ids: \"8086:1901\", class: \"0x060000\" }\n",
       "t.yaml:4:16: duplicate address 0000:00:00.0 (also on line 3)"},
      {kHeader + "devices:\n"
                 "  - { address: \"0000:01:00.0\", ids: \"10de:2684\", class: \"0x030000\", "
                 "parent: \"0000:00:01.0\" }\n",
       "t.yaml:3:77: 0000:01:00.0: parent 0000:00:01.0 is not a listed device"},
      {kHeader + "devices:\n"
                 "  - { address: \"0000:00:01.0\", ids: \"8086:1901\", class: \"0x020000\" }\n"
                 "  - { address: \"0000:01:00.0\", ids: \"10de:2684\", class: \"0x030000\", "
                 "parent: \"0000:00:01.0\" }\n",
       "t.yaml:4:77: 0000:01:00.0: parent 0000:00:01.0 is not a bridge"},
      {kHeader +
           "iommu: false\ndevices:\n"
           "  - { address: \"0000:00:00.0\", ids: \"8086:1901\", class: \"0x060000\", group: 3 }\n",
       "t.yaml:4:76: 'group' given but 'iommu' is false"},
      {kHeader + "devices:\n"
                 "  - { address: \"0000:00:00.0\", ids: \"8086:1901\", class: \"0x020000\", "
                 "boot-vga: true }\n",
       "t.yaml:3:79: 'boot-vga' is only for VGA devices (class 0x0300xx), not class 0x020000"},
      {kHeader +
           "devices:\n"
           "  - { address: \"0000:00:01.0\", ids: \"8086:1901\", class: \"0x060400\", group: 1, "
           "bound: vfio-pci }\n",
       "t.yaml:3:86: 'bound: vfio-pci' on a bridge"},
      {kHeader +
           "vfio-pci: loadable\ndevices:\n"
           "  - { address: \"0000:01:00.0\", ids: \"10de:2684\", class: \"0x030000\", group: 1, "
           "bound: vfio-pci }\n",
       "t.yaml:4:86: 'bound: vfio-pci' but 'vfio-pci' is not 'loaded'"},
      {kHeader + "devices:\n"
                 "  - { address: \"0000:01:00.0\", ids: \"10de:2684\", class: \"0x030000\", "
                 "driver: none }\n",
       "t.yaml:3:77: 'driver: none': omit 'driver'"},
      {kHeader + "devices:\n"
                 "  - { address: \"0000:01:00.0\", ids: \"10de:2684\", class: \"0x030000\", "
                 "override: \"(null)\" }\n",
       "t.yaml:3:79: 'override: (null)': omit 'override'"},
      {kHeader + "devices:\n"
                 "  - { address: \"0000:01:00.0\", ids: \"10de:2684\", class: \"0x030000\", "
                 "bound: \"nvidia drm\" }\n",
       "t.yaml:3:76: 'bound': 'nvidia drm' is not a driver name"},
      {kHeader + "devices:\n  - address: \"0000:01:00.0\"\n    address: \"0000:02:00.0\"\n",
       "t.yaml:4:5: duplicate key 'address' in a device (first given on line 3)"},
      {kHeader +
           "devices:\n  - { address: \"0000:3b:00.0\", ids: \"8086:1593\", class: \"0x020000\","
           " group: 1,\n      sriov: { total-vfs: 4, vfs: 2, vf-ids: \"8086:1889\" } }\n",
       "t.yaml:4:14: 'sriov' with VFs enabled needs 'vf-group', the group of the first VF"},
      {kHeader +
           "devices:\n  - { address: \"0000:3b:00.0\", ids: \"8086:1593\", class: \"0x020000\","
           " group: 1,\n      sriov: { total-vfs: 4, vfs: 5, vf-ids: \"8086:1889\", vf-group: 9 } "
           "}\n",
       "t.yaml:4:35: 'vfs' must be between 0 and 4, not 5"},
      {kHeader +
           "devices:\n"
           "  - { address: \"0000:3b:00.0\", ids: \"8086:1593\", class: \"0x020000\", group: 1,\n"
           "      sriov: { total-vfs: 4, vfs: 2, vf-ids: \"8086:1889\", vf-group: 9 } }\n"
           "  - { address: \"0000:3b:00.2\", ids: \"8086:1593\", class: \"0x020000\" }\n",
       "t.yaml:5:16: duplicate address 0000:3b:00.2: already a VF of 0000:3b:00.0 (sriov on line "
       "4)"},
      {kHeader +
           "devices:\n"
           "  - { address: \"0000:3b:00.2\", ids: \"8086:1593\", class: \"0x020000\" }\n"
           "  - { address: \"0000:3b:00.0\", ids: \"8086:1593\", class: \"0x020000\", group: 1,\n"
           "      sriov: { total-vfs: 4, vfs: 3, vf-ids: \"8086:1889\", vf-group: 9 } }\n",
       "t.yaml:5:14: VF 1 of 0000:3b:00.0 would be at 0000:3b:00.2, which is already a device "
       "(line 3)"},
      {kHeader + "devices: [\n", "t.yaml:3:1: "},
      {"name:\ndevices: []\n", "t.yaml:1:1: 'name' has no value"},
      {kHeader + "devices:\n  - address:\n    ids: \"8086:1234\"\n",
       "t.yaml:3:5: 'address' has no value"},
  };
  for (const auto& c : cases) {
    const std::string message = error_of(c.text);
    BOOST_TEST(message.rfind(c.expected, 0) == 0u,
               "got: " << message << "\nwanted: " << c.expected);
  }
}

BOOST_AUTO_TEST_CASE(a_missing_file_is_a_topology_error) {
  BOOST_CHECK_THROW(vfio::sim::load_topology("/nonexistent/host.yaml"), TopologyError);
}
