// What applying a plan did, group by group: plain data for the printers and the exit code.
#pragma once

#include <chrono>
#include <iosfwd>
#include <optional>
#include <string>
#include <vector>

#include "plan/plan.h"
#include "sysfs/pci_address.h"

namespace vfio {

enum class GroupResult {
  Claimed,     // every endpoint verified on vfio-pci
  Released,    // every endpoint verified back on its host driver (or driverless, as before)
  Adopted,     // already on vfio-pci: recorded, nothing written
  Forgotten,   // no longer recorded as held, nothing written
  VfsSet,      // a PF's VF count (and VF autoprobe) verified as planned
  Unchanged,   // nothing to do (noop in the plan)
  Blocked,     // refused by the planner: nothing written
  RolledBack,  // a step failed; every device this run changed is verified back as it was
  Failed,      // a step failed and the rollback could not restore everything (see problems)
  NotStarted,  // the run was interrupted (SIGINT/SIGTERM) before this group began
  DryRun,      // --dry-run: what the plan says would happen; nothing written
};
std::string_view to_string(GroupResult result);
bool is_failure(GroupResult result);  // RolledBack or Failed: the run exits 1
std::ostream& operator<<(std::ostream& out, GroupResult result);

// The step that failed, as a person needs it: which device, doing what, on which file, why.
struct StepFailure {
  PciAddress device{0, 0, 0, 0};
  std::string step;     // "set driver_override", "unbind from e1000e", "wait for vfio-pci"...
  std::string message;  // the IoError text (path, value, errno) or what was seen instead
  int error = 0;        // errno, 0 when the failure is a verification (wrong or no driver)
};

struct DeviceResult {
  PciAddress address{0, 0, 0, 0};
  Binding before;                // at the start of the transaction
  std::optional<Binding> after;  // as read back at the end; none: could not be read
};

struct GroupOutcome {
  const GroupChange* change = nullptr;  // the plan's entry (the plan outlives the outcome)
  GroupResult result = GroupResult::Unchanged;
  std::optional<StepFailure> failure;
  // A rollback that could not restore a device, or a device left alone because a write to it
  // never returned; also notes such as a stale override cleared. One line each.
  std::vector<std::string> problems;
  std::vector<DeviceResult> devices;  // the endpoints the transaction touched, in order
  std::chrono::milliseconds elapsed{0};
};

struct ApplyOutcome {
  std::vector<GroupOutcome> groups;  // one per plan change, in the plan's order
  bool interrupted = false;          // SIGINT/SIGTERM arrived: groups not begun were skipped

  unsigned count(GroupResult result) const;
  bool any_failure() const;
};

}  // namespace vfio
