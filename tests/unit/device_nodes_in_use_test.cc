#define BOOST_TEST_MODULE device_nodes_in_use
#include <boost/test/unit_test.hpp>

#include <cerrno>
#include <chrono>
#include <stdexcept>

#include <fmt/format.h>

#include "observe/device_nodes.h"
#include "observe/observe.h"
#include "plan/plan.h"
#include "plan_support.h"
#include "sim/host_files.h"
#include "sim/kernel_simulator.h"
#include "sim/sysfs_tree_writer.h"
#include "sim/topology_yaml.h"
#include "test_support.h"

// Devices the host is using through their own nodes (kernel-pci-sysfs.md, "Device nodes of host
// drivers"): a process holding a GPU's DRM node (/dev/dri/card1, renderD128) or nvidia's
// /dev/nvidia0 blocks a claim as gpu-in-use, which `force` overrides; another node held (an
// audio server's /dev/snd/controlC1) is a warning of the claim. And the kernel's side, as the
// real 6.1 kernel showed it: the unbind from a sound driver waits until every process holding a
// node of the card has closed it; the unbind from a DRM driver does not wait.

using namespace vfio;
using test::addr;
using test::contains;
using test::hazard_lines;
using namespace std::chrono_literals;

namespace {

const auto kGpu = addr("0000:01:00.0");
const auto kGpuAudio = addr("0000:01:00.1");
const auto kNvidia = addr("0000:02:00.0");
const auto kNic = addr("0000:03:00.0");

// A desktop: an AMD GPU and its HDMI audio (group 1) driving the display, an NVIDIA GPU for
// compute (group 2), a NIC (group 3).
constexpr const char* kDesktop = R"(
name: desktop
devices:
  - { address: "0000:01:00.0", ids: "1002:744c", class: "0x030000", group: 1, driver: amdgpu,
      nodes: [card1, renderD128] }
  - { address: "0000:01:00.1", ids: "1002:ab30", class: "0x040300", group: 1,
      driver: snd_hda_intel, nodes: [controlC1, pcmC1D3p] }
  - { address: "0000:02:00.0", ids: "10de:2684", class: "0x030000", group: 2, driver: nvidia,
      nodes: [nvidia0] }
  - { address: "0000:03:00.0", ids: "8086:10d3", class: "0x020000", group: 3, driver: e1000e }
)";

sim::TopologyProcess process(unsigned pid, const char* command, std::vector<std::string> files) {
  sim::TopologyProcess p;
  p.pid = pid;
  p.command = command;
  p.files = std::move(files);
  return p;
}

// The display server on the AMD GPU, the audio server on its HDMI audio, a CUDA job.
sim::Topology desktop(bool in_use = true) {
  sim::Topology t = sim::parse_topology(kDesktop, "desktop.yaml");
  if (in_use) {
    t.host.processes = {process(812, "Xorg", {"/dev/dri/renderD128"}),
                        process(900, "pipewire", {"/dev/snd/controlC1"}),
                        process(1500, "python3", {"/dev/nvidia0"})};
  }
  return t;
}

Plan plan_of(const HostSnapshot& s, test::A assignment) {
  DesiredState d;
  d.assignments.push_back(assignment.a);
  return make_plan(d, s, {});
}

bool unbind(sim::KernelSimulator& kernel, const char* driver, const PciAddress& address,
            int expect = 0) {
  const auto r = kernel.write(paths::pci_driver_file(driver, "unbind"), address.str());
  return expect == 0 ? r.ok() : (!r && r.error().error == expect);
}

}  // namespace

BOOST_AUTO_TEST_CASE(the_nodes_of_each_device_with_their_dev_paths) {
  test::DiskHost disk(desktop());
  sim::KernelSimulator kernel(desktop());
  for (Sysfs* sysfs : std::initializer_list<Sysfs*>{&disk.sys, &kernel}) {
    std::vector<Finding> findings;
    const DeviceNodes nodes = device_nodes(*sysfs, &disk.proc, findings);
    std::vector<std::string> seen;
    for (const auto& [path, node] : nodes) {
      seen.push_back(fmt::format("{} {} {}", path, node.device.str(),
                                 node.kind == DeviceNode::Kind::Gpu     ? "gpu"
                                 : node.kind == DeviceNode::Kind::Sound ? "sound"
                                                                        : "other"));
    }
    BOOST_TEST(
        seen == (std::vector<std::string>{
                    "/dev/dri/card1 0000:01:00.0 gpu", "/dev/dri/renderD128 0000:01:00.0 gpu",
                    "/dev/nvidia0 0000:02:00.0 gpu", "/dev/snd/controlC1 0000:01:00.1 sound",
                    "/dev/snd/pcmC1D3p 0000:01:00.1 sound"}),
        boost::test_tools::per_element());
    BOOST_TEST(findings.empty());
  }
}

BOOST_AUTO_TEST_CASE(holders_of_a_gpus_nodes_and_of_other_nodes_are_hazards_of_their_device) {
  test::DiskHost disk(desktop());
  const HostSnapshot s = observe(disk.sys, ObserveDetail::Full, &disk.proc);
  BOOST_TEST(
      hazard_lines(s, kGpu) ==
          std::vector<std::string>{"gpu-in-use: pid 812 (Xorg) holds /dev/dri/renderD128 open"},
      boost::test_tools::per_element());
  BOOST_TEST(
      hazard_lines(s, kGpuAudio) ==
          std::vector<std::string>{"node-open: pid 900 (pipewire) holds /dev/snd/controlC1 open"},
      boost::test_tools::per_element());
  BOOST_TEST(hazard_lines(s, kNvidia) ==
                 std::vector<std::string>{"gpu-in-use: pid 1500 (python3) holds /dev/nvidia0 open"},
             boost::test_tools::per_element());
  BOOST_TEST(hazard_lines(s, kNic).empty());
  BOOST_TEST(s.findings.empty());

  // Nobody holding anything: no hazard.
  test::DiskHost idle(desktop(false));
  const HostSnapshot quiet = observe(idle.sys, ObserveDetail::Full, &idle.proc);
  for (const auto& d : quiet.devices) BOOST_TEST(d.hazards.empty(), d.address.str());
}

BOOST_AUTO_TEST_CASE(a_gpu_in_use_is_refused_unless_forced_and_an_open_sound_node_is_a_warning) {
  test::DiskHost disk(desktop());
  const HostSnapshot s = observe(disk.sys, ObserveDetail::Planning, &disk.proc);

  const Plan refused = plan_of(s, test::A("gpu").address("0000:01:00.0"));
  const GroupChange& c = test::change_for(refused, 1);
  BOOST_TEST((c.action == GroupAction::Blocked));
  BOOST_TEST((c.blocked_by == BlockReason::GpuInUse));
  BOOST_TEST(is_safety_refusal(BlockReason::GpuInUse));
  BOOST_TEST(contains(c.reason, "pid 812 (Xorg) holds /dev/dri/renderD128 open"), c.reason);
  BOOST_TEST(contains(c.reason, "add force: \"<reason>\" to gpu"), c.reason);

  const Plan forced = plan_of(s, test::A("gpu").address("0000:01:00.0").force("VM night"));
  const GroupChange& f = test::change_for(forced, 1);
  BOOST_TEST((f.action == GroupAction::Claim));
  BOOST_TEST((f.forced == std::string("VM night")));
  // The audio function goes with the group; its holder is warned of, not refused.
  BOOST_REQUIRE(f.warnings.size() == 1u);
  BOOST_TEST(contains(f.warnings.front(), "0000:01:00.1"), f.warnings.front());
  BOOST_TEST(contains(f.warnings.front(),
                      "pid 900 (pipewire) holds /dev/snd/controlC1 open: the unbind from "
                      "snd_hda_intel waits until it lets go"),
             f.warnings.front());

  const Plan nvidia = plan_of(s, test::A("cuda").address("0000:02:00.0"));
  BOOST_TEST((test::change_for(nvidia, 2).blocked_by == BlockReason::GpuInUse));
  BOOST_TEST(contains(test::change_for(nvidia, 2).reason, "pid 1500 (python3)"));
}

BOOST_AUTO_TEST_CASE(a_sound_cards_unbind_waits_for_its_holders_a_gpus_does_not) {
  sim::KernelSimulator kernel(desktop());
  kernel.set_write_timeout(20ms);
  // snd_card_free waits until every file of the card is closed.
  BOOST_TEST(unbind(kernel, "snd_hda_intel", kGpuAudio, ETIMEDOUT));
  kernel.end_process(900);
  kernel.wait_for_blocked_writes();
  BOOST_TEST(!kernel.driver_of(kGpuAudio).has_value());
  // A DRM driver's unbind unplugs the device under its holders (drm_dev_unplug) and returns.
  BOOST_TEST(unbind(kernel, "amdgpu", kGpu));
  BOOST_TEST(!kernel.driver_of(kGpu).has_value());

  // The node is gone; Xorg still has it open, as a deleted file, and holds nothing of the host's.
  const sim::HostFiles files = sim::host_files(
      kernel.topology(), [](const sim::TopologyDevice& d) { return d.address.str(); });
  BOOST_TEST(files.proc.at("812/fd/3").text == "/dev/dri/renderD128 (deleted)");
  BOOST_TEST(!files.sysfs.count("class/drm/card1"));
  test::DiskHost after(kernel.topology());
  const HostSnapshot s = observe(after.sys, ObserveDetail::Full, &after.proc);
  BOOST_TEST(hazard_lines(s, kGpu).empty());
}

BOOST_AUTO_TEST_CASE(a_topology_names_only_nodes_the_simulator_knows) {
  try {
    sim::parse_topology(R"(
name: bad
devices:
  - { address: "0000:01:00.0", ids: "1002:744c", class: "0x030000", group: 1, driver: amdgpu,
      nodes: [tty0] }
)",
                        "bad.yaml");
    BOOST_FAIL("a node name the simulator does not know was taken");
  } catch (const sim::TopologyError& e) {
    BOOST_TEST(contains(e.what(), "bad.yaml:5:"), e.what());
    BOOST_TEST(contains(e.what(), "'tty0' is not a device node the simulator knows"), e.what());
  }
}
