// Settling what a stopped run left in flight, for the groups this run did not touch.
//
// A run that died between its last write to a group and the record saying so leaves the group
// `in_flight`. When this run has nothing to do there (the plan found the claim complete, or the
// release done), the observation already tells how the transaction ended: every endpoint on
// vfio-pci - claimed; none on vfio-pci, no vfio-pci override and none left without the driver
// it had - back as before, nothing owned. Anything in between stays in flight for the plan to
// finish or undo: a run of another owner (which never plans for the group) must not forget a
// device that still waits for its host driver's probe.
#pragma once

#include <map>
#include <optional>

#include "apply/apply_outcome.h"
#include "apply/ownership_ledger.h"
#include "observe/host_snapshot.h"
#include "plan/ownership.h"

namespace vfio {

// Pure: the entries to change (a new entry, or nullopt to forget it), by group.
std::map<unsigned, std::optional<OwnedGroup>> settle_in_flight(const OwnershipRecord& record,
                                                               const HostSnapshot& host,
                                                               const ApplyOutcome& outcome);

// Applies settle_in_flight() to the ledger after a run; a record that cannot be saved is logged
// (it stays in flight, which the next run settles again).
void settle_ledger(OwnershipLedger& ledger, const HostSnapshot& host, const ApplyOutcome& outcome);

}  // namespace vfio
