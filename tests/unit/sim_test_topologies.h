// Small hosts, built in C++, for the kernel simulator's tests.
#pragma once

#include <algorithm>
#include <optional>
#include <ostream>
#include <set>
#include <string>
#include <string_view>

#include <boost/test/unit_test.hpp>

#include "sim/kernel_simulator.h"
#include "sim/topology.h"
#include "sysfs/sys_path.h"
#include "test_support.h"

namespace vfio::sim::testing {

using vfio::test::addr;

// group 1: root port 00:01.0 (pcieport) + GPU 01:00.0 (nouveau) + its audio 01:00.1
//          (snd_hda_intel), a multifunction slot
// group 2: e1000e NIC 02:00.0, alone
// group 3: PCI bridge 00:1e.0 (no driver) + xhci 05:00.0 behind it
// group 4: a second NIC with the same ids, 03:00.0 (e1000e)
// group 6: SR-IOV PF 06:00.0 (igb) with one VF 06:10.0 (igbvf, group 7)
// no group: SMBus 00:1f.3 (i801_smbus)
inline const PciAddress kRootPort = addr("0000:00:01.0");
inline const PciAddress kGpu = addr("0000:01:00.0");
inline const PciAddress kAudio = addr("0000:01:00.1");
inline const PciAddress kNic = addr("0000:02:00.0");
inline const PciAddress kNic2 = addr("0000:03:00.0");
inline const PciAddress kBridge = addr("0000:00:1e.0");
inline const PciAddress kUsb = addr("0000:05:00.0");
inline const PciAddress kPf = addr("0000:06:00.0");
inline const PciAddress kVf = addr("0000:06:10.0");
inline const PciAddress kSmbus = addr("0000:00:1f.3");
inline const PciAddress kAbsent = addr("0000:09:00.0");

inline TopologyDevice device(PciAddress address, uint16_t vendor, uint16_t device_id,
                             uint32_t class_code, std::optional<unsigned> group,
                             std::optional<std::string> driver) {
  TopologyDevice d;
  d.address = address;
  d.vendor = vendor;
  d.device = device_id;
  d.subsystem_vendor = vendor;
  d.subsystem_device = 0x1234;
  d.class_code = class_code;
  d.iommu_group = group;
  d.host_driver = driver;
  d.bound_driver = driver;
  return d;
}

inline Topology test_host(Topology::VfioPci vfio = Topology::VfioPci::Loaded) {
  Topology t;
  t.name = "test-host";
  t.vfio_pci = vfio;

  auto root = device(kRootPort, 0x8086, 0x1901, 0x060400, 1, "pcieport");
  root.header = HeaderType::Bridge;
  auto gpu = device(kGpu, 0x10de, 0x1b80, 0x030000, 1, "nouveau");
  gpu.parent = kRootPort;
  gpu.boot_vga = false;
  auto audio = device(kAudio, 0x10de, 0x10f0, 0x040300, 1, "snd_hda_intel");
  audio.parent = kRootPort;
  auto nic = device(kNic, 0x8086, 0x10d3, 0x020000, 2, "e1000e");
  auto nic2 = device(kNic2, 0x8086, 0x10d3, 0x020000, 4, "e1000e");
  auto bridge = device(kBridge, 0x8086, 0x244e, 0x060401, 3, std::nullopt);
  bridge.header = HeaderType::Bridge;
  auto usb = device(kUsb, 0x1b21, 0x1242, 0x0c0330, 3, "xhci_hcd");
  usb.parent = kBridge;
  auto pf = device(kPf, 0x8086, 0x1521, 0x020000, 6, "igb");
  pf.sriov_total_vfs = 7;
  pf.vf_template = {0x80, 2, 0x8086, 0x1520, "igbvf"};  // the 82576's: VF i at 06:10.(2i)
  auto vf = device(kVf, 0x8086, 0x1520, 0x020000, 7, "igbvf");
  vf.physfn = kPf;
  auto smbus = device(kSmbus, 0x8086, 0xa323, 0x0c0500, std::nullopt, "i801_smbus");

  t.devices = {root, bridge, smbus, gpu, audio, nic, nic2, usb, pf, vf};
  std::sort(t.devices.begin(), t.devices.end(),
            [](const auto& a, const auto& b) { return a.address < b.address; });
  t.drivers = {
      {"pcieport", std::nullopt, true},
      {"nouveau", "nouveau", false},
      {"snd_hda_intel", "snd_hda_intel", false},
      {"e1000e", "e1000e", false},
      {"xhci_hcd", "xhci_pci", false},
      {"igb", "igb", false},
      {"igbvf", "igbvf", false},
      {"i801_smbus", "i2c_i801", false},
      {"pci-stub", "pci_stub", true},
  };
  if (vfio == Topology::VfioPci::Loaded) t.drivers.push_back({"vfio-pci", "vfio_pci", true});
  return t;
}

inline SysPath dev_file(const PciAddress& a, std::string_view name) {
  return paths::pci_device_file(a, name);
}
inline SysPath drv_file(std::string_view driver, std::string_view name) {
  return paths::pci_driver_file(driver, name);
}
inline SysPath override_path(const PciAddress& a) {
  return dev_file(a, "driver_override");
}

// KernelSimulator::read's override has no default for max_bytes: call it as the gateway.
inline Sysfs& as_sysfs(KernelSimulator& sim) {
  return sim;
}

// The errno of a failed call, 0 when it succeeded.
template <class T>
int error_of(const Result<T>& r) {
  return r.ok() ? 0 : r.error().error;
}

inline std::string read_text(Sysfs& sysfs, const SysPath& path) {
  auto r = sysfs.read(path);
  return r.ok() ? r.value() : "<error " + errno_name(r.error().error) + ">";
}

}  // namespace vfio::sim::testing

// Boost.Test prints the values of a failed check; teach it the optionals the simulator returns.
namespace boost::test_tools::tt_detail {
template <>
struct print_log_value<std::optional<std::string>> {
  void operator()(std::ostream& out, const std::optional<std::string>& value) {
    if (value) {
      out << '"' << *value << '"';
    } else {
      out << "nullopt";
    }
  }
};
template <>
struct print_log_value<std::nullopt_t> {
  void operator()(std::ostream& out, std::nullopt_t) { out << "nullopt"; }
};
template <>
struct print_log_value<std::set<unsigned>> {
  void operator()(std::ostream& out, const std::set<unsigned>& value) {
    out << '{';
    for (unsigned v : value) out << ' ' << v;
    out << " }";
  }
};
}  // namespace boost::test_tools::tt_detail
