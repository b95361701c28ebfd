// Plan: what reconciling would do, per IOMMU group, and why. Plain data, no I/O.
//
// make_plan() is a pure function of (desired state, observed host, ownership record): `plan`,
// `apply --dry-run` and `apply` all call it, and only what happens to its result differs.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "manifest/desired_state.h"
#include "manifest/manifest_error.h"
#include "observe/host_snapshot.h"
#include "plan/ownership.h"

namespace vfio {

// Forget: a group its owner adopted and no longer names leaves the ownership record; it stays on
// vfio-pci (this tool did not bind it) and nothing is written to sysfs.
// SetVfs: an SR-IOV PF's VF count (and its VF autoprobe) changes; the PF stays where it is.
enum class GroupAction { Claim, Release, Adopt, Noop, Blocked, Forget, SetVfs };
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
  OwnedByOther,    // the ownership record says another owner holds the group; never forced
  HoldersUnknown,  // the group has a /dev/vfio node and /proc cannot tell who holds it; never
                   // forced
  SriovUnconfigurable,  // `vfs` for a PF whose driver cannot set its VF count (vfio-pci, none)
  GpuInUse,             // safety: a process holds the GPU's DRM or nvidia node open
  DriverUnavailable,    // `driver:` names no vfio driver of the running kernel, or `auto`
                        // cannot read modules.alias
};
bool is_safety_refusal(BlockReason reason);  // overridable by `force`
// "gpu0", or "gpu0 of owner boot": the default owner goes unsaid, as in manifests without owners.
std::string held_for(const std::string& owner, const std::string& assignment);
std::string_view to_string(GroupAction action);
std::string_view to_string(BlockReason reason);

// One reason a group is blocked, at the device it concerns (none: the group's as a whole, or
// several devices', which the message names).
struct Blocker {
  BlockReason reason;
  std::string message;
  std::optional<PciAddress> device = std::nullopt;
};

struct Binding {
  std::optional<std::string> driver;    // none: no driver
  std::optional<std::string> override;  // none: "(null)"
  bool operator==(const Binding&) const = default;
};

struct PlannedDevice {
  PciAddress address{0, 0, 0, 0};
  PciIds ids;
  DeviceRole role = DeviceRole::Selected;
  Binding before;
  Binding after;
  // Release only: `after.driver` is the recorded original driver; when nothing is recorded any
  // host driver will do, and `after.driver` is none with this set.
  bool any_host_driver = false;
  // Claim to a driver other than plain vfio-pci: which and why ("driver: auto: the most
  // specific vfio_pci alias, modules.alias:4 vfio_pci:v000015B3d0000101Esv*sd*bc*sc*i*").
  std::string driver_reason;

  bool changes() const { return before != after; }
};

// A PF's VF count as a SetVfs change makes it. The kernel takes a new count only from 0, and a
// VF meets its host driver only while the PF's VF autoprobe is on; so a count change turns
// autoprobe off, goes through 0, and leaves autoprobe off until the new VFs are claimed (a
// later change turns it back on). Giving a PF back (`restore`) ends with each VF that existed
// before on its recorded driver and autoprobe as it was.
struct VfCount {
  PciAddress pf{0, 0, 0, 0};
  unsigned from = 0;  // sriov_numvfs now
  unsigned to = 0;    // and after
  bool autoprobe_from = true;
  bool autoprobe_to = true;
  bool restore = false;  // back to `record`'s originals; the record entry then goes
  // What the ownership record keeps for the PF (written before the first write): the originals
  // of the first change, kept through later ones.
  OwnedVfs record;
  std::vector<PciAddress> vfs_before;  // the VFs now, which a count change removes
};

// Who the ownership record says holds a group, as the run found it.
struct Holder {
  std::string owner;
  std::string assignment;
  OwnedGroup::How how = OwnedGroup::How::Bound;
  bool in_flight = false;  // a run stopped in the middle of a transaction on the group

  static Holder of(const OwnedGroup& g) { return {g.owner, g.assignment, g.how, g.in_flight}; }
};

struct GroupChange {
  std::optional<unsigned> group;  // none: the device(s) have no group, or nothing matched
  GroupAction action = GroupAction::Noop;
  std::string assignment;  // the first assignment (in manifest order) that touches the group
  // Whose change it is: the owner of `assignment` (a prune or forget: the recorded owner's).
  std::string owner;
  std::optional<Holder> held_by;          // what the ownership record said of the group
  std::string reason;                     // one line for a person (blocked: the first blocker's)
  std::optional<BlockReason> blocked_by;  // the first blocker's reason
  // Blocked: every reason found, each at its device, the weightiest first (a process holding
  // the group, then what the manifests ask that cannot be, then what `force` may override).
  std::vector<Blocker> blockers;
  std::optional<std::string> forced;   // a safety refusal overridden: the `force` reason
  std::vector<PlannedDevice> devices;  // endpoints, by address
  std::vector<PciAddress> bridges;     // members left alone
  std::vector<VfCount> vf_counts;      // SetVfs: each PF of the group whose VFs change
  std::vector<std::string> explain;    // --explain: which assignment, which match, which peer
  // What the change does to others that is not refused: a process holding a node of a device
  // the claim takes from its host driver ("<device label>: pid 812 (pipewire) holds ...").
  std::vector<std::string> warnings;
  // A group the run's owners hold that no manifest names any more: its release, forget or VF
  // give-back is a prune (apply asks before a prune that writes, on a terminal).
  bool pruned = false;
};

// A change the run's scope leaves to a later run, as it was planned, and why it is left.
struct DeferredChange {
  GroupChange change;
  std::string why;
};

struct PlanSummary {
  unsigned claim = 0, release = 0, adopt = 0, noop = 0, blocked = 0, forget = 0, set_vfs = 0;
};

struct Plan {
  // Set when the host cannot do passthrough at all (no IOMMU, no vfio-pci): nothing is planned,
  // and the run exits 69.
  std::optional<std::string> unusable;
  // Manifest errors only the host can reveal: two owners asking for one IOMMU group (a group
  // has one owner). Each is at an assignment's FILE:LINE:COLUMN; with any, nothing is planned
  // and the run exits 65 as for any manifest error.
  std::vector<Diagnostic> manifest_conflicts;
  std::string fingerprint;           // of the observed state the plan was made from
  std::vector<GroupChange> changes;  // by group number; group-less entries last
  // What a narrow run (PlanScope) leaves as it is, in the same order: not counted, not applied.
  std::vector<DeferredChange> deferred;

  PlanSummary summary() const;
  // Anything to claim, release or a VF count to set (adopting and forgetting change only the
  // ownership record).
  bool has_changes() const;
};

// Which changes a run may make. A full run makes every change; two narrow runs exist for
// moments when the rest of the host is not ready, and leave everything else to a full run:
// - Early: the initramfs, before udev loads any driver. Only claims whose every endpoint has
//   no driver yet (or is on vfio-pci already) and adoptions: the point is that no host driver
//   ever binds the device, so a claim that would need an unbind is never made here. Releases,
//   VF counts and refusals wait for the boot unit, which runs with the whole system.
// - Device: udev saw `device` appear (hot-plug, a VF, a rescan). Only the IOMMU group that holds
//   it, and only to claim, adopt or set a VF count, or to say why not: a device that appears is
//   never the reason to release or prune anything.
struct PlanScope {
  enum class Kind { Full, Early, Device };
  Kind kind = Kind::Full;
  std::optional<PciAddress> device;  // Kind::Device
};

struct PlanOptions {
  // Release groups this tool bound for the run's owners that no manifest names any more, and
  // forget those it adopted for them.
  bool prune = true;
  PlanScope scope{};
};

Plan make_plan(const DesiredState& desired, const HostSnapshot& host, const OwnershipRecord& owned,
               const PlanOptions& options = {});

}  // namespace vfio
