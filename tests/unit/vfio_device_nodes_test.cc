#define BOOST_TEST_MODULE vfio_device_nodes
#include <boost/test/unit_test.hpp>

#include <cerrno>
#include <chrono>
#include <stdexcept>
#include <thread>

#include <fmt/format.h>

#include "observe/class_devices.h"
#include "observe/node_holders.h"
#include "observe/observe.h"
#include "sim/kernel_simulator.h"
#include "sim/topology_yaml.h"
#include "test_support.h"

// VFIO device nodes (kernel-pci-sysfs.md, "Kernel lines"): on kernels from 6.6 built with
// CONFIG_IOMMUFD and CONFIG_VFIO_DEVICE_CDEV (not Debian's 6.12, which has neither) every device on
// vfio-pci also has /dev/vfio/devices/vfio<M>, the way in for iommufd, as QEMU uses it with
// `-object iommufd`. A VM holding only that node holds the device as surely as one holding
// /dev/vfio/<group>: its unbind sleeps in the kernel until the VM exits. The simulator with and
// without them, the on-disk tree against the simulator, and the tool's holders on both.

using namespace vfio;
using test::addr;
using test::contains;
using test::hazard_lines;
using namespace std::chrono_literals;

namespace {

const auto kGpu = addr("0000:01:00.0");
const auto kAudio = addr("0000:01:00.1");
const auto kNic = addr("0000:02:00.0");

// A GPU and its audio function on vfio-pci (group 1), a NIC on its host driver (group 2), on a
// 6.12 kernel with VFIO device nodes or without (Debian's).
std::string host_text(bool nodes, const char* kernel = "6.12") {
  return fmt::format(R"(
name: iommufd
kernel: "{}"
vfio-device-nodes: {}
devices:
  - {{ address: "0000:01:00.0", ids: "10de:2684", class: "0x030000", group: 1, driver: nvidia,
      bound: vfio-pci, override: vfio-pci }}
  - {{ address: "0000:01:00.1", ids: "10de:22ba", class: "0x040300", group: 1,
      driver: snd_hda_intel, bound: vfio-pci, override: vfio-pci }}
  - {{ address: "0000:02:00.0", ids: "8086:10d3", class: "0x020000", group: 2, driver: e1000e }}
)",
                     kernel, nodes);
}

sim::Topology host(bool nodes = true) {
  return sim::parse_topology(host_text(nodes), "iommufd.yaml");
}

// QEMU holding the GPU through iommufd only: /dev/iommu and the GPU's device node, no group node.
sim::TopologyProcess qemu_on_iommufd() {
  return {4242, "qemu-system-x86", {}, 0, {kGpu}, {}};
}

// class/vfio-dev's entries, each as "vfio0 -> 0000:01:00.0" (the PCI function it lies below).
std::vector<std::string> device_nodes(KernelFiles& sysfs) {
  std::vector<std::string> out;
  auto listed = sysfs.list(SysPath() / "class" / "vfio-dev");
  if (!listed) return out;
  std::vector<std::string> names = *listed;
  std::sort(names.begin(), names.end());
  for (const auto& name : names) {
    auto target = sysfs.read_link(SysPath() / "class" / "vfio-dev" / name);
    BOOST_REQUIRE(target);
    const auto device = pci_device_in(*target);  // ".../0000:01:00.0/vfio-dev/vfio0"
    out.push_back(name + " -> " + (device ? device->str() : *target));
  }
  return out;
}

bool unbind(sim::KernelSimulator& kernel, const PciAddress& address, int expect = 0) {
  const auto r = kernel.write(paths::pci_driver_file("vfio-pci", "unbind"), address.str());
  return expect == 0 ? r.ok() : (!r && r.error().error == expect);
}

void claim(sim::KernelSimulator& kernel, const PciAddress& address, const char* from) {
  BOOST_REQUIRE(kernel.write(paths::pci_device_file(address, "driver_override"), "vfio-pci"));
  BOOST_REQUIRE(kernel.write(paths::pci_driver_file(from, "unbind"), address.str()));
  BOOST_REQUIRE(kernel.write(paths::drivers_probe(), address.str()));
}

}  // namespace

BOOST_AUTO_TEST_CASE(a_device_on_vfio_pci_has_a_node_where_the_kernel_has_them) {
  sim::KernelSimulator kernel(host());
  BOOST_TEST(device_nodes(kernel) ==
                 (std::vector<std::string>{"vfio0 -> 0000:01:00.0", "vfio1 -> 0000:01:00.1"}),
             boost::test_tools::per_element());
  // Below the device: its dev, and `device` back to it.
  BOOST_TEST(kernel.read(paths::pci_device_file(kGpu, "vfio-dev") / "vfio0" / "dev").ok());
  const auto back = kernel.read_link(paths::pci_device_file(kGpu, "vfio-dev") / "vfio0" / "device");
  BOOST_TEST((back && *back == "../.."));
  // The on-disk tree of the same host shows the same.
  test::DiskHost disk(host());
  BOOST_TEST(device_nodes(disk.sys) == device_nodes(kernel), boost::test_tools::per_element());

  sim::KernelSimulator old(host(false));
  BOOST_TEST(device_nodes(old).empty());
  BOOST_TEST(old.list(SysPath() / "class" / "vfio-dev").error().error == ENOENT);
  BOOST_TEST(!old.list(paths::pci_device_file(kGpu, "vfio-dev")));
}

BOOST_AUTO_TEST_CASE(nodes_are_numbered_as_the_kernels_ida_numbers_them) {
  sim::KernelSimulator kernel(host());
  BOOST_REQUIRE(unbind(kernel, kGpu));  // vfio0 is free again; its node is gone
  BOOST_TEST(device_nodes(kernel) == (std::vector<std::string>{"vfio1 -> 0000:01:00.1"}),
             boost::test_tools::per_element());
  claim(kernel, kNic, "e1000e");                                    // the lowest free
  BOOST_REQUIRE(kernel.write(paths::drivers_probe(), kGpu.str()));  // then the next
  BOOST_TEST(device_nodes(kernel) ==
                 (std::vector<std::string>{"vfio0 -> 0000:02:00.0", "vfio1 -> 0000:01:00.1",
                                           "vfio2 -> 0000:01:00.0"}),
             boost::test_tools::per_element());
}

BOOST_AUTO_TEST_CASE(holding_a_node_blocks_that_devices_unbind_until_the_holder_exits) {
  sim::KernelSimulator kernel(host());
  kernel.start_process(qemu_on_iommufd());
  kernel.set_write_timeout(20ms);
  BOOST_TEST(unbind(kernel, kGpu, ETIMEDOUT));
  BOOST_TEST(unbind(kernel, kAudio));  // its own node is not held
  kernel.end_process(4242);
  kernel.wait_for_blocked_writes();
  BOOST_TEST(!kernel.driver_of(kGpu).has_value());
  // Only a device that has a node can be held: the NIC is on its host driver.
  BOOST_CHECK_THROW(kernel.start_process({4300, "qemu-system-x86", {}, 0, {kNic}, {}}),
                    std::invalid_argument);
  BOOST_CHECK_THROW(sim::KernelSimulator(host(false)).start_process(qemu_on_iommufd()),
                    std::invalid_argument);
}

BOOST_AUTO_TEST_CASE(a_holder_of_the_device_node_holds_the_group) {
  sim::Topology t = host();
  t.host.processes = {qemu_on_iommufd()};
  test::DiskHost disk(t);
  sim::KernelSimulator kernel(t);
  const std::string held =
      "held-open: in use by pid 4242 (qemu-system-x86), which holds /dev/vfio/devices/vfio0 open";
  for (Sysfs* sysfs : std::initializer_list<Sysfs*>{&disk.sys, &kernel}) {
    const HostSnapshot s = observe(*sysfs, ObserveDetail::Full, &disk.proc);
    // The whole group, as for a group node: the audio function goes with the GPU.
    BOOST_TEST(hazard_lines(s, kGpu) == std::vector<std::string>{held},
               boost::test_tools::per_element());
    BOOST_TEST(hazard_lines(s, kAudio) == std::vector<std::string>{held},
               boost::test_tools::per_element());
    BOOST_TEST(hazard_lines(s, kNic).empty());
    BOOST_TEST(s.findings.empty());
  }
  // What apply checks again before it writes to a group.
  const auto holders = holders_of_group(disk.sys, disk.proc, 1);
  BOOST_REQUIRE(holders.size() == 1u);
  BOOST_TEST(holders.front().pid == 4242);
  BOOST_TEST(describe_held_nodes(holders) == "/dev/vfio/devices/vfio0");
  BOOST_TEST(holders_of_group(disk.sys, disk.proc, 2).empty());
  // Without nodes the same open file names no node of the host's: nobody holds anything.
  test::DiskHost old(host(false));
  test::DiskHost with_fd(t);
  BOOST_TEST(holders_of_group(old.sys, with_fd.proc, 1).empty());
}

BOOST_AUTO_TEST_CASE(a_held_devices_driver_override_is_not_read_while_its_unbind_hangs) {
  sim::Topology t = host();
  t.host.processes = {qemu_on_iommufd()};
  test::DiskHost disk(t);
  sim::KernelSimulator kernel(t);
  kernel.set_write_timeout(20ms);
  BOOST_REQUIRE(unbind(kernel, kGpu, ETIMEDOUT));
  // The VM exits after 3 s: an observation that read the driver_override would wait for it.
  std::thread vm([&kernel] {
    std::this_thread::sleep_for(3s);
    kernel.end_process(4242);
  });

  const auto start = std::chrono::steady_clock::now();
  const HostSnapshot s = observe(kernel, ObserveDetail::Planning, &disk.proc);
  const auto took = std::chrono::steady_clock::now() - start;
  BOOST_TEST(std::chrono::duration_cast<std::chrono::milliseconds>(took).count() < 1500);
  // Its driver link is gone, but its node is still there and still held.
  BOOST_TEST(!s.find(kGpu)->driver.has_value());
  BOOST_TEST(s.find(kGpu)->driver_override_unread);
  BOOST_TEST(contains(hazard_lines(s, kGpu).front(), "which holds /dev/vfio/devices/vfio0 open"));
  vm.join();
  kernel.wait_for_blocked_writes();
}

BOOST_AUTO_TEST_CASE(a_topology_cannot_hold_a_node_that_does_not_exist) {
  auto with_process = [](bool nodes, const char* address) {
    return host_text(nodes) +
           fmt::format(
               "host:\n  processes: [{{ pid: 9, command: qemu, vfio-devices: [\"{}\"] }}]\n",
               address);
  };
  BOOST_CHECK_NO_THROW(sim::parse_topology(with_process(true, "0000:01:00.0"), "t.yaml"));
  auto error_of = [](const std::string& text) {
    try {
      sim::parse_topology(text, "t.yaml");
    } catch (const sim::TopologyError& e) {
      return std::string(e.what());
    }
    return std::string("no error");
  };
  BOOST_TEST(contains(error_of(with_process(true, "0000:02:00.0")),
                      "t.yaml:12:55: 'vfio-devices': 0000:02:00.0 is not a device on vfio-pci"),
             error_of(with_process(true, "0000:02:00.0")));
  BOOST_TEST(contains(error_of(with_process(false, "0000:01:00.0")),
                      "'vfio-devices': this kernel has no VFIO device nodes"));
  BOOST_TEST(
      contains(error_of(host_text(true, "6.x")), "t.yaml:3:9: 'kernel' must be a version like"),
      error_of(host_text(true, "6.x")));
  BOOST_TEST(contains(error_of(host_text(true, "6.1")),
                      "t.yaml:4:20: 'vfio-device-nodes': kernel 6.1 has none (6.6 on)"),
             error_of(host_text(true, "6.1")));
}
