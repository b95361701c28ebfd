// One IOMMU group's change as a transaction: claimed whole, released whole, or put back exactly
// as it was. Runs against the live kernel through the gateway; parallel groups each run one.
//
// Claim: checks that the group's members are still those planned and that no process holds the
// group's VFIO node (one that took it since the plan: the plan refuses held groups), reads every
// endpoint's binding, records the originals in the ledger (in flight), then moves the endpoints in
// order, each verified on vfio-pci. On the first failure every device this transaction changed goes
// back, in reverse order, to exactly what it had (DeviceSteps::restore), each restore verified;
// a device that was on vfio-pci before is never released by a rollback. The one exception is a
// group a crashed run left in flight: the devices it moved are part of this transaction, and
// go back to the originals the ledger kept.
#pragma once

#include "apply/apply_outcome.h"
#include "apply/device_steps.h"
#include "apply/ownership_ledger.h"
#include "plan/plan.h"
#include "sysfs/sysfs.h"

namespace vfio {

struct GroupTransaction {
  Sysfs& sysfs;
  DeviceSteps& steps;
  OwnershipLedger& ledger;
  KernelFiles* proc = nullptr;  // /proc: a group a process holds open now is not written to

  GroupOutcome claim(const GroupChange& change);
  GroupOutcome release(const GroupChange& change);
  GroupOutcome adopt(const GroupChange& change);
  // The group leaves the record; nothing is written to sysfs.
  GroupOutcome forget(const GroupChange& change);
};

}  // namespace vfio
