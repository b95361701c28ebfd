// SR-IOV as the simulator models it: writes to a PF's `sriov_numvfs` and
// `sriov_drivers_autoprobe` (drivers/pci/iov.c), and which probes a VF allows
// (pci_device_can_probe in drivers/pci/pci-driver.c). See docs/kernel-pci-sysfs.md, "SR-IOV".
#include <cerrno>
#include <set>

#include "sim/kernel_simulator_state.h"
#include "util/hex.h"

namespace vfio::sim {
namespace {

// kstrtou16(buf, 0, &n): decimal, 0x-hex or 0-octal, the whole buffer, one trailing newline.
std::optional<unsigned> parse_u16(std::string_view value) {
  value = value.substr(0, std::min(value.find('\0'), value.size()));
  if (!value.empty() && value.back() == '\n') value.remove_suffix(1);
  if (value.empty()) return std::nullopt;
  unsigned base = 10;
  if (value.size() > 1 && value[0] == '0') {
    if (value[1] == 'x' || value[1] == 'X') {
      base = 16;
      value.remove_prefix(2);
      if (value.empty()) return std::nullopt;
    } else {
      base = 8;
      value.remove_prefix(1);
    }
  }
  unsigned long out = 0;
  for (char c : value) {
    const int digit = hex_digit(c);
    if (digit < 0 || static_cast<unsigned>(digit) >= base) return std::nullopt;
    out = out * base + static_cast<unsigned>(digit);
    if (out > 0xffff) return std::nullopt;  // ERANGE from kstrto*, which the store maps to EINVAL
  }
  return static_cast<unsigned>(out);
}

// kstrtobool (6.1): the first character decides; "on"/"off" need the second.
std::optional<bool> parse_bool(std::string_view value) {
  if (value.empty()) return std::nullopt;
  switch (value[0]) {
    case 'y':
    case 'Y':
    case '1':
      return true;
    case 'n':
    case 'N':
    case '0':
      return false;
    case 'o':
    case 'O':
      if (value.size() < 2) return std::nullopt;
      if (value[1] == 'n' || value[1] == 'N') return true;
      if (value[1] == 'f' || value[1] == 'F') return false;
      return std::nullopt;
    default:
      return std::nullopt;
  }
}

}  // namespace

bool KernelSimulator::State::may_probe(const SimDevice& d) const {
  // pci_device_can_probe: a VF meets a driver only while its PF's drivers_autoprobe is on, or
  // when its driver_override names one (the override is how a VF is claimed with it off).
  if (!d.info.physfn || d.override_) return true;
  auto pf = devices.find(*d.info.physfn);
  return pf == devices.end() || pf->second.info.sriov_drivers_autoprobe;
}

unsigned KernelSimulator::State::lowest_free_group() const {
  // iommu_group_alloc: ida_alloc, the lowest number no group holds now.
  std::set<unsigned> used;
  for (const auto& [address, d] : devices) {
    if (auto g = group_of(d)) used.insert(*g);
  }
  unsigned id = 0;
  while (used.count(id) > 0) ++id;
  return id;
}

int KernelSimulator::State::write_numvfs(SimDevice& pf, std::string_view value) {
  // sriov_numvfs_store, in its order.
  const auto wanted = parse_u16(value);
  if (!wanted) return EINVAL;
  if (*wanted > pf.info.sriov_total_vfs) return ERANGE;
  const unsigned enabled = enabled_vfs(pf);
  if (*wanted == enabled) return 0;  // nothing to do, and the write succeeds
  // No driver, or one without sriov_configure, cannot configure SR-IOV: the PF's host driver
  // can; vfio-pci's sriov_configure refuses unless loaded with enable_sriov (off by default).
  if (!pf.driver || *pf.driver != pf.info.host_driver) return ENOENT;
  if (*wanted == 0) {
    for (auto& [address, vf] : devices) {
      if (vf.present && vf.info.physfn == pf.info.address) remove(vf);
    }
    return 0;
  }
  if (enabled != 0) return EBUSY;  // "%d VFs already enabled. Disable before enabling %d VFs"
  std::vector<SimDevice*> made;
  for (unsigned i = 0; i < *wanted; ++i) {
    auto info = make_vf(pf.info, i);
    if (!info) return ENOMEM;  // the topology parser keeps VFs on their bus; never here
    if (meta.iommu) info->iommu_group = lowest_free_group();
    SimDevice& vf = devices[info->address];
    vf = SimDevice{};
    vf.info = std::move(*info);
    made.push_back(&vf);
  }
  // pci_iov_add_virtfn then pci_bus_add_device: each VF is added, then probed (bus autoprobe
  // and the PF's drivers_autoprobe permitting).
  if (autoprobe) {
    for (SimDevice* vf : made) attach(*vf);
  }
  return 0;
}

int KernelSimulator::State::write_vf_autoprobe(SimDevice& pf, std::string_view value) {
  const auto on = parse_bool(value);
  if (!on) return EINVAL;
  pf.info.sriov_drivers_autoprobe = *on;  // only later probes see it: nothing is bound now
  return 0;
}

}  // namespace vfio::sim
