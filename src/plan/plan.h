// Plan: what reconciling would do, per IOMMU group, and why. Plain data, no I/O.
//
// make_plan() is a pure function of (desired state, observed host, ownership record): `plan`,
// `apply --dry-run` and `apply` all call it, and only what happens to its result differs.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "manifest/desired_state.h"
#include "observe/host_snapshot.h"
#include "plan/ownership.h"

namespace vfio {

enum class GroupAction { Claim, Release, Adopt, Noop, Blocked };
enum class DeviceRole { Selected, Companion };

// Why a group is blocked. Safety refusals can be overridden by `force`; the others cannot.
enum class BlockReason {
  NoGroup,         // the device is not translated by the IOMMU
  NotFound,        // an address match names no device on this host
  NoMatch,         // a match selects no device at all
  CountMismatch,   // `count` does not hold
  Conflict,        // one group wanted on vfio-pci and on the host, or a device picked twice
  PartialGroup,    // `companions: listed` would leave a group member on a host driver
  NotAnEndpoint,   // a bridge was selected; vfio-pci cannot bind it
  NotAsDescribed,  // the device at the match's address is not what its other keys describe
  Vanished,        // a group member disappeared while the host was observed
  BootDisplay,     // safety: the firmware's boot display (boot_vga)
  Console,         // safety: the text console is on its framebuffer
  NetworkInUse,    // safety: a NIC that is up, routed, addressed or enslaved
  StorageInUse,    // safety: a controller whose disks are mounted, swap or held
  HeldOpen,        // a process holds the group's /dev/vfio node: a write could hang; never forced
};
bool is_safety_refusal(BlockReason reason);  // overridable by `force`
std::string_view to_string(GroupAction action);
std::string_view to_string(BlockReason reason);

struct Binding {
  std::optional<std::string> driver;    // none: no driver
  std::optional<std::string> override;  // none: "(null)"
  bool operator==(const Binding&) const = default;
};

struct PlannedDevice {
  PciAddress address{0, 0, 0, 0};
  PciIds ids;
  PciNames names;
  DeviceRole role = DeviceRole::Selected;
  Binding before;
  Binding after;
  // Release only: `after.driver` is the recorded original driver; when nothing is recorded any
  // host driver will do, and `after.driver` is none with this set.
  bool any_host_driver = false;

  bool changes() const { return before != after; }
};

struct GroupChange {
  std::optional<unsigned> group;  // none: the device(s) have no group, or nothing matched
  GroupAction action = GroupAction::Noop;
  std::string assignment;  // the first assignment (in manifest order) that touches the group
  std::string reason;      // one line for a person
  std::optional<BlockReason> blocked_by;
  std::optional<std::string> forced;   // a safety refusal overridden: the `force` reason
  std::vector<PlannedDevice> devices;  // endpoints, by address
  std::vector<PciAddress> bridges;     // members left alone
  std::vector<std::string> explain;    // --explain: which assignment, which match, which peer
};

struct PlanSummary {
  unsigned claim = 0, release = 0, adopt = 0, noop = 0, blocked = 0;
};

struct Plan {
  // Set when the host cannot do passthrough at all (no IOMMU, no vfio-pci): nothing is planned,
  // and the run exits 69.
  std::optional<std::string> unusable;
  std::string fingerprint;           // of the observed state the plan was made from
  std::vector<GroupChange> changes;  // by group number; group-less entries last

  PlanSummary summary() const;
  bool has_changes() const;  // anything to claim or release
};

struct PlanOptions {
  bool prune = true;  // release groups this tool bound that no manifest names any more
};

Plan make_plan(const DesiredState& desired, const HostSnapshot& host, const OwnershipRecord& owned,
               const PlanOptions& options = {});

}  // namespace vfio
