// observe(): read the host's PCI devices, IOMMU groups and drivers through the Sysfs gateway.
#pragma once

#include <functional>
#include <set>
#include <stdexcept>

#include "observe/host_snapshot.h"

namespace vfio {

class KernelFiles;
class Sysfs;

// The one fatal case: the root holds no PCI bus at all (wrong --sysfs-root, no sysfs mounted).
class ObserveError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// How much of each device observe() reads. Full: everything `status` shows. Planning: what the
// planner needs (ids, class, kind, driver, driver_override, IOMMU group, boot_vga); numa_node,
// label, physfn and SR-IOV (sriov_totalvfs, sriov_numvfs, the virtfn links) stay unset.
// PlanningSriov: Planning with physfn and SR-IOV, for manifests or records that set VF counts.
// Identity: the ids, class and driver alone (one read of uevent), what matching needs; kind
// stays Endpoint and unread (observe_scope reads the devices it keeps at a planning level).
enum class ObserveDetail { Full, Planning, PlanningSriov, Identity };

// Reads every device under bus/pci/devices. A device that vanishes while being read is left out
// and a missing or malformed attribute leaves its field unset; both are recorded as findings.
// Names are not read here (observe/device_names.h: printers look them up). With `proc` (a gateway
// rooted at /proc), the wider host is read too and each device's hazards filled in
// (host_context.h); without it, only what sysfs alone shows (network interfaces that are up or
// enslaved, framebuffer consoles).
HostSnapshot observe(Sysfs& sysfs, ObserveDetail detail = ObserveDetail::Full,
                     KernelFiles* proc = nullptr);

// The devices a plan is about (issue 18): every device is read for its identity (ids, class,
// driver: one read of uevent), and only those `wanted` or recorded are read in full, with every
// member of their IOMMU groups (the planner decides whole groups), an SR-IOV PF's VFs and a VF's
// PF.
struct ObserveScope {
  // Of a device read for its identity alone (its kind not yet known): whether it is wanted.
  std::function<bool(const PciDevice&)> wanted;
  std::set<unsigned> groups;       // wanted whole: the groups the ownership record holds
  std::set<PciAddress> addresses;  // wanted: the devices the record holds, where present
};

// As observe(), for the devices and groups `scope` wants, each read at `detail`; the others are
// not in the snapshot, nor their findings but for those of the identity read.
HostSnapshot observe_scope(Sysfs& sysfs, const ObserveScope& scope,
                           ObserveDetail detail = ObserveDetail::Planning,
                           KernelFiles* proc = nullptr);

}  // namespace vfio
