// A SetVfs change carried out: each SR-IOV PF's VF count and VF autoprobe, every step verified
// by reading it back, bounded by the timeout, and recorded in the ledger before the first write.
//
// Sequences from docs/kernel-pci-sysfs.md ("SR-IOV"):
//   set:     sriov_drivers_autoprobe <- 0; sriov_numvfs <- 0 (when VFs exist); sriov_numvfs <- N;
//            wait for the N VFs. Autoprobe stays off: the VFs are claimed next (a later change
//            turns it back on), and no host VF driver ever sees them.
//   restore: the same to the recorded count, then each VF that existed before back on its
//            recorded driver (the probe pinned by its override), then autoprobe as it was.
// A count change that fails is not undone: the record keeps the originals (in flight), and the
// next run finishes the change or gives the PF back.
#pragma once

#include <chrono>
#include <optional>
#include <string>
#include <vector>

#include "apply/apply_outcome.h"
#include "apply/device_steps.h"
#include "apply/ownership_ledger.h"
#include "plan/plan.h"
#include "sysfs/sysfs.h"

namespace vfio {

class VfCountSteps {
 public:
  // `timeout`: how long the kernel may take to make or remove VFs, per write.
  VfCountSteps(Sysfs& sysfs, DeviceSteps& steps, OwnershipLedger& ledger,
               std::chrono::milliseconds timeout)
      : sysfs_(sysfs), steps_(steps), ledger_(ledger), timeout_(timeout) {}

  GroupOutcome run(const GroupChange& change);

 private:
  std::optional<StepFailure> set(const GroupChange& change, const VfCount& v,
                                 std::vector<std::string>& notes);
  std::optional<StepFailure> write(const PciAddress& pf, const std::string& file,
                                   const std::string& value);
  // Polls `file` of the PF until it reads `value` (and, for a count, the last VF's virtfn link
  // is there) or the timeout passes.
  std::optional<StepFailure> wait_for(const PciAddress& pf, const std::string& file,
                                      unsigned value);
  std::optional<unsigned> read_number(const PciAddress& pf, const std::string& file);
  // The ledger before the first write: the PF's originals, in flight.
  std::optional<StepFailure> record(const GroupChange& change, const VfCount& v);
  // The VF groups the change removed or gave back leave the record.
  void forget_vf_groups(const VfCount& v, std::vector<std::string>& notes);
  // The PF's entry after the last step: settled, or gone once it is given back.
  void settle(const GroupChange& change, const VfCount& v, std::vector<std::string>& notes);
  // A save after the first write; a failure is a note, not a reason to stop.
  void save(unsigned group, std::optional<OwnedGroup> entry, std::vector<std::string>& notes);

  Sysfs& sysfs_;
  DeviceSteps& steps_;
  OwnershipLedger& ledger_;
  std::chrono::milliseconds timeout_;
};

}  // namespace vfio
