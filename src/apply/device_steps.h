// The kernel sequences that move one device, each write checked and each result verified by
// reading the `driver` link back (drivers_probe "succeeds" even when nothing binds).
//
// Sequences from docs/kernel-pci-sysfs.md ("Sequences that are known to be right"):
//   claim:   driver_override <- vfio-pci; <driver>/unbind <- BDF; drivers_probe <- BDF; wait
//   release: vfio-pci/unbind <- BDF; driver_override <- "\n"; drivers_probe <- BDF; wait
//   restore: back to exactly a recorded binding, pinning the probe to the recorded driver
#pragma once

#include <chrono>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "apply/apply_outcome.h"
#include "plan/plan.h"
#include "sysfs/pci_address.h"
#include "sysfs/sysfs.h"
#include "util/result.h"

namespace vfio {

// The device's driver (the `driver` link) and driver_override, as the kernel has them now.
Result<Binding> read_binding(Sysfs& sysfs, const PciAddress& address);

class DeviceSteps {
 public:
  // `probe_timeout`: how long a driver may take to bind after a probe (per device). `proc`
  // (/proc, may be null): to say who holds a device whose write did not return. `variants`:
  // the vfio variant drivers of the running kernel (vfio-pci is always a vfio driver).
  DeviceSteps(Sysfs& sysfs, std::chrono::milliseconds probe_timeout, KernelFiles* proc = nullptr,
              std::set<std::string> variants = {});

  // vfio-pci or one of the variants.
  bool is_vfio(const std::optional<std::string>& driver) const;

  // From `now` (read just before) to `driver` (vfio-pci or a variant), override `driver`.
  std::optional<StepFailure> claim(const PciAddress& address, const Binding& now,
                                   const std::string& driver);

  // From a vfio driver (or a stale override to one) back to the host: to `expected` when it names
  // a driver; to no driver when `expected` is none and !any_host_driver (it had none before);
  // to whatever host driver probes when any_host_driver (nothing was recorded).
  std::optional<StepFailure> release(const PciAddress& address, const Binding& now,
                                     const std::optional<std::string>& expected,
                                     bool any_host_driver);

  // Back to `original` exactly, verified; used by rollbacks. One exception, on purpose: an
  // original override of vfio-pci on a device whose original driver is not vfio-pci is cleared,
  // not restored, and said so in `notes` - left behind, it would hand the device to vfio-pci
  // at the next probe event (hotplug, rescan, module load).
  std::optional<StepFailure> restore(const PciAddress& address, const Binding& original,
                                     std::vector<std::string>& notes);

  // A write to the device did not return in time (a driver's remove() stuck in the kernel).
  // Nothing more may be asked of it: even reading its driver_override would block.
  bool stuck(const PciAddress& address) const;

 private:
  std::optional<StepFailure> write(const PciAddress& address, std::string step, const SysPath& path,
                                   std::string_view value);
  std::optional<StepFailure> set_override(const PciAddress& address,
                                          const std::optional<std::string>& value);
  std::optional<StepFailure> unbind(const PciAddress& address, const std::string& driver);
  std::optional<StepFailure> probe(const PciAddress& address);
  // Polls the `driver` link until `accept(driver)` holds or the probe timeout passes.
  template <class Accept>
  std::optional<StepFailure> wait_for(const PciAddress& address, const std::string& step,
                                      const std::string& wanted, const Accept& accept);

  // " It is held by pid 4242 (qemu-system-x86) ..." for a device whose write timed out.
  std::string holder_note(const PciAddress& address);

  Sysfs& sysfs_;
  std::chrono::milliseconds probe_timeout_;
  KernelFiles* proc_;
  std::set<std::string> variants_;
  mutable std::mutex mutex_;
  std::set<PciAddress> stuck_;
};

}  // namespace vfio
