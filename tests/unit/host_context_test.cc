#define BOOST_TEST_MODULE host_context
#include <boost/test/unit_test.hpp>

#include <chrono>

#include "observe/node_holders.h"
#include "observe/observe.h"
#include "sim/kernel_simulator.h"
#include "sim/sysfs_tree_writer.h"
#include "sim/topology_yaml.h"
#include "sysfs/real_sysfs.h"
#include "test_support.h"

// The wider host in the observation (observe/host_context.h): who holds a VFIO group, busy NICs,
// disks in use, the framebuffer console - on on-disk sysfs and /proc trees, and on the kernel
// simulator with the same /proc, which must agree.

using namespace vfio;
using test::contains;
namespace fs = boost::filesystem;

namespace {

using vfio::test::addr;

using test::DiskHost;

std::vector<std::string> hazards(const HostSnapshot& s, const char* address) {
  return test::hazard_lines(s, addr(address));
}

std::string one(const HostSnapshot& s, const char* address) {
  const auto all = hazards(s, address);
  BOOST_REQUIRE_MESSAGE(all.size() == 1u,
                        std::string(address) + " has " + std::to_string(all.size()) + " hazards");
  return all.front();
}

bool has_finding(const HostSnapshot& s, const std::string& text) {
  for (const auto& f : s.findings)
    if (contains(f.path + ": " + f.message, text)) return true;
  return false;
}

}  // namespace

BOOST_AUTO_TEST_CASE(every_hazard_of_the_busy_host_is_found) {
  DiskHost host(test::example_host("busy-host"));
  const HostSnapshot s = observe(host.sys, ObserveDetail::Full, &host.proc);
  // The boot display is a hazard of its own (the plan refuses it as such), listed first.
  BOOST_TEST(
      hazards(s, "0000:03:00.0") == (std::vector<std::string>{"boot-display: boot display",
                                                              "console: console on fb0 (fbcon)"}),
      boost::test_tools::per_element());
  const std::string uplink = one(s, "0000:5e:00.0");
  BOOST_TEST(contains(uplink, "network-in-use: network interface enp94s0f0: up"), uplink);
  BOOST_TEST(contains(uplink,
                      "port of bridge br0 (default route via 192.168.1.1, route to "
                      "192.168.1.0/24)"),
             uplink);
  BOOST_TEST(one(s, "0000:5e:00.1") ==
             "network-in-use: network interface enp94s0f1: up, address 2001:db8::10/64");
  const std::string boot = one(s, "0000:5f:00.0");
  for (const char* use :
       {"/boot/efi mounted from nvme0n1p1", "/boot mounted from nvme0n1p2",
        "nvme0n1p3 held by dm-0 (vg0-root)", "/ mounted from dm-0", "swap on nvme0n1p4"}) {
    BOOST_TEST(contains(boot, use), boot << " lacks " << use);
  }
  // What nothing uses is not a hazard: a NIC that is down, a drive with nothing mounted.
  BOOST_TEST(hazards(s, "0000:61:00.0").empty());
  BOOST_TEST(hazards(s, "0000:60:00.0").empty());
  for (const char* gpu : {"0000:86:00.0", "0000:86:00.1"}) {
    BOOST_TEST(one(s, gpu) ==
               "held-open: in use by pid 4242 (qemu-system-x86), which holds /dev/vfio/14 open");
    BOOST_TEST(s.find(addr(gpu))->driver_override_unread);
    BOOST_TEST(!s.find(addr(gpu))->driver_override.has_value());
  }
  BOOST_TEST(!s.find(addr("0000:61:00.0"))->driver_override_unread);
  BOOST_TEST(s.findings.empty());
}

BOOST_AUTO_TEST_CASE(the_simulator_shows_the_same_wider_host_as_the_disk) {
  const sim::Topology t = test::example_host("busy-host");
  DiskHost host(t);
  sim::KernelSimulator kernel(t);
  const HostSnapshot disk = observe(host.sys, ObserveDetail::Full, &host.proc);
  const HostSnapshot simulated = observe(kernel, ObserveDetail::Full, &host.proc);
  BOOST_REQUIRE(disk.devices.size() == simulated.devices.size());
  std::size_t with_hazards = 0;
  for (std::size_t i = 0; i < disk.devices.size(); ++i) {
    const auto address = disk.devices[i].address.str();
    BOOST_TEST(hazards(disk, address.c_str()) == hazards(simulated, address.c_str()), address);
    if (!disk.devices[i].hazards.empty()) ++with_hazards;
  }
  BOOST_TEST(with_hazards == 8u);  // ... the compute GPU and the capture card among them
}

BOOST_AUTO_TEST_CASE(a_claimed_nic_has_no_interfaces_left_in_the_simulator) {
  const sim::Topology t = test::example_host("busy-host");
  DiskHost host(t);
  sim::KernelSimulator kernel(t);
  const auto nic = addr("0000:5e:00.1");
  BOOST_REQUIRE(kernel.write(paths::pci_device_file(nic, "driver_override"), "vfio-pci").ok());
  BOOST_REQUIRE(kernel.write(paths::pci_driver_file("ice", "unbind"), nic.str()).ok());
  BOOST_REQUIRE(kernel.write(paths::drivers_probe(), nic.str()).ok());
  const HostSnapshot s = observe(kernel, ObserveDetail::Full, &host.proc);
  BOOST_TEST(hazards(s, "0000:5e:00.1").empty());
  // ... and its group now has a VFIO node nobody holds.
  BOOST_TEST(vfio_group_nodes(kernel).count(21) == 1u);
}

BOOST_AUTO_TEST_CASE(without_proc_only_what_sysfs_shows_is_known) {
  DiskHost host(test::example_host("busy-host"));
  const HostSnapshot s = observe(host.sys, ObserveDetail::Full, nullptr);
  BOOST_TEST(one(s, "0000:5e:00.0") ==
             "network-in-use: network interface enp94s0f0: up, port of bridge br0");
  // Holders are sysfs's; mounts and swap are /proc's.
  BOOST_TEST(one(s, "0000:5f:00.0") ==
             "storage-in-use: storage: nvme0n1p3 held by dm-0 (vg0-root)");
  BOOST_TEST(hazards(s, "0000:86:00.0").empty());
  BOOST_TEST(!s.find(addr("0000:86:00.0"))->driver_override_unread);
}

const char* const kSmallHost = R"(
name: small
devices:
  - { address: "0000:00:17.0", ids: "8086:a352", class: "0x010601", group: 1, driver: ahci,
      disks: [{ name: sda, dev: "8:0", partitions: [{ name: sda1, dev: "8:1" },
                                                    { name: sda2, dev: "8:2" }] }] }
  - { address: "0000:02:00.0", ids: "8086:10d3", class: "0x020000", group: 2, driver: e1000e,
      net: [{ name: eth0, state: down }], framebuffer: fb1 }
  - { address: "0000:03:00.0", ids: "10de:2684", class: "0x030000", group: 3, driver: nvidia,
      bound: vfio-pci, override: vfio-pci }
host:
  fbcon: true
)";

BOOST_AUTO_TEST_CASE(proc_files_are_read_as_the_kernel_writes_them) {
  DiskHost host(sim::parse_topology(kSmallHost, "small.yaml"));
  // btrfs mounts show an anonymous device number: only the source names the partition.
  std::ofstream(host.proc_path("1/mountinfo").string(), std::ios::app)
      << "30 21 0:35 /@home /home\\040dir rw,relatime shared:5 - btrfs /dev/sda2 rw\n";
  std::ofstream(host.proc_path("net/ipv6_route").string())
      << "fe800000000000000000000000000000 40 00000000000000000000000000000000 00 "
         "00000000000000000000000000000000 00000100 00000001 00000000 00000001     eth0\n"
      << "00000000000000000000000000000000 00 00000000000000000000000000000000 00 "
         "fe800000000000000000000000000001 00000400 00000001 00000000 00000003     eth0\n";
  std::ofstream(host.proc_path("net/if_inet6").string())
      << "fe80000000000000021b21fffe3a4b5c 02 40 20 80     eth0\n";
  const HostSnapshot s = observe(host.sys, ObserveDetail::Full, &host.proc);
  BOOST_TEST(one(s, "0000:00:17.0") == "storage-in-use: storage: /home dir mounted from sda2");
  // The IPv6 default route counts; the link-local route and address every interface has do not.
  // fb1 is not where fbcon puts the console (fb0, unless fbcon=map: says otherwise).
  BOOST_TEST(one(s, "0000:02:00.0") ==
             "network-in-use: network interface eth0: IPv6 default route via fe80::1");

  std::ofstream(host.proc_path("cmdline").string()) << "ro quiet fbcon=map:1\n";
  const HostSnapshot mapped = observe(host.sys, ObserveDetail::Full, &host.proc);
  BOOST_TEST(hazards(mapped, "0000:02:00.0").size() == 2u);
  BOOST_TEST(hazards(mapped, "0000:02:00.0").back() == "console: console on fb1 (fbcon)");
}

BOOST_AUTO_TEST_CASE(processes_that_race_or_hide_are_skipped_and_holders_are_exact) {
  sim::Topology t = sim::parse_topology(kSmallHost, "small.yaml");
  t.host.processes = {{500, "qemu-system-x86", {3}, 1, {}, {}}, {501, "vfio-only", {}, 0, {}, {}}};
  DiskHost host(t);
  // 600 exited while we looked (its fd directory is gone); 601 has a closed fd (a dangling
  // entry is still a link) and no comm; 602 holds a device fd without the group: told, not
  // guessed; 603 holds only the container.
  fs::create_directories(host.proc_path("600"));
  fs::create_directories(host.proc_path("601/fd"));
  fs::create_symlink("/dev/vfio/3", host.proc_path("601/fd/7"));
  fs::create_directories(host.proc_path("602/fd"));
  fs::create_symlink("anon_inode:[vfio-device]", host.proc_path("602/fd/9"));
  std::ofstream(host.proc_path("602/comm").string()) << "orphan\n";
  fs::create_directories(host.proc_path("603/fd"));
  fs::create_symlink("/dev/vfio/vfio", host.proc_path("603/fd/3"));
  fs::create_symlink("/dev/vfio/devices/vfio0", host.proc_path("603/fd/4"));

  const HostSnapshot s = observe(host.sys, ObserveDetail::Full, &host.proc);
  BOOST_TEST(one(s, "0000:03:00.0") ==
             "held-open: in use by pids 500 (qemu-system-x86) and 601 (?), which hold "
             "/dev/vfio/3 open");
  BOOST_TEST(has_finding(s, "pid 602 holds 1 VFIO device fd but no group node"));
  BOOST_TEST(s.findings.size() == 1u);
  // A group with no node is never looked for, and with no node at all /proc is not read.
  BOOST_TEST(holders_of_group(host.sys, host.proc, 2).empty());
  BOOST_TEST(find_node_holders(host.proc, VfioNodes{}).by_group.empty());
}

BOOST_AUTO_TEST_CASE(a_held_devices_driver_override_is_not_read_while_its_unbind_hangs) {
  // The kernel: an unbind of a device a VM holds sleeps until the VM lets go, and reading the
  // device's driver_override blocks meanwhile. The observation must not wait for it.
  sim::Topology t = test::example_host("busy-host");
  DiskHost host(t);
  sim::KernelSimulator kernel(t);
  kernel.set_write_timeout(std::chrono::milliseconds(20));
  kernel.block_write(paths::pci_driver_file("vfio-pci", "unbind"), 1, std::chrono::seconds(3));
  const auto gpu = addr("0000:86:00.0");
  const auto hung = kernel.write(paths::pci_driver_file("vfio-pci", "unbind"), gpu.str());
  BOOST_REQUIRE(!hung && hung.error().error == ETIMEDOUT);

  const auto start = std::chrono::steady_clock::now();
  const HostSnapshot s = observe(kernel, ObserveDetail::Planning, &host.proc);
  const auto took = std::chrono::steady_clock::now() - start;
  BOOST_TEST(std::chrono::duration_cast<std::chrono::milliseconds>(took).count() < 1500);
  // Its driver link is gone, but /dev/vfio/14 is still there and still held.
  BOOST_TEST(!s.find(gpu)->driver.has_value());
  BOOST_TEST(s.find(gpu)->driver_override_unread);
  BOOST_TEST(one(s, "0000:86:00.0") ==
             "held-open: in use by pid 4242 (qemu-system-x86), which holds /dev/vfio/14 open");
  kernel.wait_for_blocked_writes();
}

namespace {

// /proc as the host's, except that one process's open files may not be read (a run without
// root's rights, or another user's process under hidepid).
class OneProcessHidden final : public KernelFiles {
 public:
  OneProcessHidden(KernelFiles& inner, std::string pid) : inner_(inner), pid_(std::move(pid)) {}
  Result<std::string> read(const SysPath& p, std::size_t max) override {
    return inner_.read(p, max);
  }
  Result<std::string> read_link(const SysPath& p) override { return inner_.read_link(p); }
  Result<std::vector<std::string>> list(const SysPath& p) override {
    if (p.str() == pid_ + "/fd") return IoError{IoError::Op::List, display(p), EACCES, {}};
    return inner_.list(p);
  }
  std::string display(const SysPath& p) const override { return inner_.display(p); }

 private:
  KernelFiles& inner_;
  std::string pid_;
};

}  // namespace

// A /proc that shows no process, or one whose processes' open files may not all be read, cannot
// say that nobody holds a group: every endpoint of a group with a /dev/vfio node gets the
// holders-unknown hazard saying why, and the observation a finding. A group with no node needs no
// holder looked for, and gets nothing.
BOOST_AUTO_TEST_CASE(a_blind_proc_is_not_nobody_holds_it) {
  sim::Topology t = sim::parse_topology(kSmallHost, "small.yaml");
  t.host.processes = {{500, "qemu-system-x86", {3}, 1, {}, {}}};
  DiskHost host(t);
  test::ScratchDir empty("blind-proc");
  RealSysfs blind(empty.path());
  const HostSnapshot none = observe(host.sys, ObserveDetail::Full, &blind);
  BOOST_TEST(contains(one(none, "0000:03:00.0"),
                      "holders-unknown: whether a process holds its /dev/vfio node is not known: " +
                          empty.str() + " lists no process at all"),
             one(none, "0000:03:00.0"));
  BOOST_TEST(has_finding(none, "lists no process at all"));
  BOOST_TEST(hazards(none, "0000:02:00.0").size() <= 1u);  // its framebuffer's, not this one
  for (const auto& h : hazards(none, "0000:02:00.0")) BOOST_TEST(!contains(h, "holders-unknown"));

  OneProcessHidden hidden(host.proc, "500");
  const HostSnapshot part = observe(host.sys, ObserveDetail::Full, &hidden);
  BOOST_TEST(one(part, "0000:03:00.0") ==
             "holders-unknown: whether a process holds its /dev/vfio node is not known: the open "
             "files of 1 process could not be read (not permitted)");
  BOOST_TEST(has_finding(part, "run as root to see every holder"));
}
