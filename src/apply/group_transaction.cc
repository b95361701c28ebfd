#include "apply/group_transaction.h"

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <map>
#include <set>

#include <fmt/format.h>

#include "apply/ownership_journal.h"
#include "observe/node_holders.h"
#include "sysfs/kernel_names.h"

namespace vfio {
namespace {

using Clock = std::chrono::steady_clock;

// Removed from the bus: every PCI device has driver_override, so ENOENT there means it is gone.
bool gone(Sysfs& sysfs, const PciAddress& address) {
  auto text = sysfs.read(paths::pci_device_file(address, "driver_override"));
  return !text && text.error().error == ENOENT;
}

// The members the plan saw must still be the group's members: a device hot-added into the group
// since it was observed would be left on its host driver, and the group not viable.
std::optional<StepFailure> check_members(Sysfs& sysfs, const GroupChange& change) {
  const PciAddress first = change.devices.front().address;
  auto listed = sysfs.list(paths::iommu_group_devices(*change.group));
  if (!listed)
    return StepFailure{first, "list the group's members", listed.error().to_string(),
                       listed.error().error};
  std::set<std::string> now(listed->begin(), listed->end());
  std::set<std::string> planned;
  for (const auto& d : change.devices) planned.insert(d.address.str());
  for (const auto& b : change.bridges) planned.insert(b.str());
  if (now == planned) return std::nullopt;
  std::vector<std::string> added, gone;
  std::set_difference(now.begin(), now.end(), planned.begin(), planned.end(),
                      std::back_inserter(added));
  std::set_difference(planned.begin(), planned.end(), now.begin(), now.end(),
                      std::back_inserter(gone));
  return StepFailure{
      first, "check the group's members",
      fmt::format("IOMMU group {} changed since it was observed (new: {}; gone: {}); "
                  "nothing was written, run again to plan with what is there now",
                  *change.group, added.empty() ? "none" : fmt::format("{}", fmt::join(added, ", ")),
                  gone.empty() ? "none" : fmt::format("{}", fmt::join(gone, ", "))),
      0};
}

// A process that opened the group's VFIO node since the plan was made: the plan refuses a
// held group, and so does the run. Checked before any binding is read, because reading a
// held device's driver_override blocks while an unbind of it waits for the holder.
std::optional<StepFailure> check_not_held(Sysfs& sysfs, KernelFiles* proc,
                                          const GroupChange& change) {
  if (!proc) return std::nullopt;
  const auto holders = holders_of_group(sysfs, *proc, *change.group);
  if (holders.empty()) return std::nullopt;
  return StepFailure{change.devices.front().address, "check that no process holds the group",
                     fmt::format("IOMMU group {} is now in use by {}, which hold{} {} open; "
                                 "nothing was written: stop it first, then run again",
                                 *change.group, describe_holders(holders),
                                 holders.size() == 1 ? "s" : "", describe_held_nodes(holders)),
                     EBUSY};
}

// What claim and release check before their first write: the group's members are still those
// planned, no process holds it open, and every endpoint's binding can be read (into `out`).
std::optional<StepFailure> preflight(Sysfs& sysfs, KernelFiles* proc, const GroupChange& change,
                                     std::map<PciAddress, Binding>& out) {
  if (auto f = check_members(sysfs, change)) return f;
  if (auto f = check_not_held(sysfs, proc, change)) return f;
  for (const auto& d : change.devices) {
    auto binding = read_binding(sysfs, d.address);
    if (!binding) {
      return StepFailure{d.address, "read its binding", binding.error().to_string(),
                         binding.error().error};
    }
    out[d.address] = *binding;
  }
  return std::nullopt;
}

class Transaction {
 public:
  Transaction(GroupTransaction& t, const GroupChange& change) : t_(t), started_(Clock::now()) {
    outcome_.change = &change;
  }

  GroupOutcome failed_before_writing(StepFailure failure) {
    outcome_.result = GroupResult::RolledBack;
    outcome_.failure = std::move(failure);
    return finish();
  }

  // Puts every device in `changed` (last changed first) back to its original binding.
  void roll_back(StepFailure failure, const std::vector<PciAddress>& changed,
                 const std::map<PciAddress, Binding>& originals) {
    outcome_.failure = std::move(failure);
    bool complete = true;
    for (auto it = changed.rbegin(); it != changed.rend(); ++it) {
      if (t_.steps.stuck(*it)) {
        complete = false;
        outcome_.problems.push_back(
            fmt::format("{}: left alone, a write to it has not returned (reading or writing it "
                        "would hang too); "
                        "it is in an unknown state until that write ends",
                        it->str()));
        continue;
      }
      std::vector<std::string> notes;
      if (auto f = t_.steps.restore(*it, originals.at(*it), notes)) {
        if (gone(t_.sysfs, *it)) {
          // Removed from the bus during the run: nothing of it is left to restore, and a rescan
          // brings it back with its host driver and no override.
          outcome_.problems.push_back(
              fmt::format("{}: gone from the bus (removed during the run), nothing to restore; "
                          "a rescan brings it back with its host driver",
                          it->str()));
          continue;
        }
        complete = false;
        outcome_.problems.push_back(
            fmt::format("{}: could not be restored: {}: {}", it->str(), f->step, f->message));
      }
      outcome_.problems.insert(outcome_.problems.end(), notes.begin(), notes.end());
    }
    outcome_.result = complete ? GroupResult::RolledBack : GroupResult::Failed;
  }

  void record_devices(const std::map<PciAddress, Binding>& before) {
    for (const auto& [address, binding] : before) {
      DeviceResult r{address, binding, std::nullopt};
      if (!t_.steps.stuck(address)) {
        if (auto after = read_binding(t_.sysfs, address)) r.after = *after;
      }
      outcome_.devices.push_back(std::move(r));
    }
  }

  // Write-ahead: the entry is saved in flight before the first write. Without the record a crash
  // could not be undone, so a failure to save it ends the transaction before it starts (the
  // failure names `device`).
  std::optional<GroupOutcome> record_in_flight(OwnedGroup entry, const PciAddress& device) {
    entry.in_flight = true;
    try {
      t_.ledger.set(entry.group, std::move(entry));
    } catch (const StateDirError& e) {
      return failed_before_writing(
          StepFailure{device, "record the transaction", e.what(), e.error()});
    }
    return std::nullopt;
  }

  // Saves the ledger entry; a failure to save is reported, never hidden.
  void settle(unsigned group, std::optional<OwnedGroup> entry) {
    try {
      t_.ledger.set(group, std::move(entry));
    } catch (const StateDirError& e) {
      outcome_.problems.push_back(
          fmt::format("the ownership record was not updated: {}", e.what()));
    }
  }

  GroupOutcome& outcome() { return outcome_; }

  GroupOutcome finish() {
    outcome_.elapsed =
        std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - started_);
    return std::move(outcome_);
  }

 private:
  GroupTransaction& t_;
  Clock::time_point started_;
  GroupOutcome outcome_;
};

}  // namespace

GroupOutcome GroupTransaction::claim(const GroupChange& change) {
  Transaction tx(*this, change);
  const unsigned group = *change.group;
  std::map<PciAddress, Binding> before;
  if (auto f = preflight(sysfs, proc, change, before))
    return tx.failed_before_writing(std::move(*f));

  const std::optional<OwnedGroup> prior = ledger.find(group);
  OwnedGroup entry = prior.value_or(
      OwnedGroup{group, OwnedGroup::How::Bound, change.assignment, {}, false, change.owner});
  entry.assignment = change.assignment;
  // What each device goes back to on failure: what the ledger kept for it when an earlier run
  // stopped in the middle of this group, else what it has now.
  std::map<PciAddress, Binding> originals = before;
  std::vector<PciAddress> changed;  // in the order they were changed
  if (prior && prior->in_flight) {
    for (const auto& d : prior->devices) {
      if (!before.count(d.address)) continue;
      originals[d.address] = Binding{d.original_driver, d.original_override};
      if (steps.is_vfio(before[d.address].driver)) changed.push_back(d.address);
    }
  }
  // Where each device goes: the driver the plan gives it, or vfio-pci for one that left a vfio
  // driver since the plan was made; a device on a vfio driver the plan did not move stays.
  std::map<PciAddress, std::string> targets;
  for (const auto& d : change.devices) {
    if (d.changes() && d.after.driver) targets[d.address] = *d.after.driver;
  }
  std::vector<PciAddress> moving;
  for (const auto& [address, binding] : before) {
    const auto planned = targets.find(address);
    if (planned == targets.end() ? steps.is_vfio(binding.driver)
                                 : binding.driver == planned->second) {
      continue;
    }
    const std::string& target = targets.try_emplace(address, kVfioPciDriver).first->second;
    moving.push_back(address);
    std::optional<std::string> variant;
    if (target != kVfioPciDriver) variant = target;
    if (OwnedDevice* kept = entry.find(address)) {
      kept->vfio_driver = variant;  // an earlier run's claim, finished now to this driver
    } else {
      entry.devices.push_back(OwnedDevice{address, binding.driver, binding.override, variant});
    }
  }
  if (moving.empty() && changed.empty() && !prior) {
    // Someone else bound the whole group since it was observed: that is adoption, not a claim
    // of ours (a later prune must not release it).
    return adopt(change);
  }
  const PciAddress first = moving.empty() ? change.devices.front().address : moving.front();
  if (auto not_started = tx.record_in_flight(entry, first)) return std::move(*not_started);

  for (const auto& address : moving) {
    changed.push_back(address);
    if (auto f = steps.claim(address, before[address], targets[address])) {
      tx.roll_back(std::move(*f), changed, originals);
      tx.record_devices(before);
      const bool restored = tx.outcome().result == GroupResult::RolledBack;
      // Fully restored: the group is as it was before any run touched it (or as a completed
      // earlier claim left it). Not restored: the in-flight entry stays for the next run.
      if (restored) tx.settle(group, prior && !prior->in_flight ? prior : std::nullopt);
      return tx.finish();
    }
  }
  tx.record_devices(before);
  entry.in_flight = false;
  tx.settle(group, entry);
  tx.outcome().result = GroupResult::Claimed;
  return tx.finish();
}

GroupOutcome GroupTransaction::release(const GroupChange& change) {
  Transaction tx(*this, change);
  const unsigned group = *change.group;
  std::map<PciAddress, Binding> before;
  if (auto f = preflight(sysfs, proc, change, before))
    return tx.failed_before_writing(std::move(*f));

  const std::optional<OwnedGroup> prior = ledger.find(group);
  if (prior) {
    if (auto not_started = tx.record_in_flight(*prior, change.devices.front().address)) {
      return std::move(*not_started);
    }
  }

  std::vector<PciAddress> changed;
  for (const auto& d : change.devices) {
    const Binding& now = before[d.address];
    // Already on a host driver. A driverless device is not skipped: a release that stopped
    // after its unbind left it so, and it still needs its probe.
    if (now.driver && !steps.is_vfio(now.driver) && !steps.is_vfio(now.override)) continue;
    changed.push_back(d.address);
    if (auto f = steps.release(d.address, now, d.after.driver, d.any_host_driver)) {
      tx.roll_back(std::move(*f), changed, before);
      tx.record_devices(before);
      if (tx.outcome().result == GroupResult::RolledBack && prior) tx.settle(group, prior);
      return tx.finish();
    }
  }
  tx.record_devices(before);
  for (const auto& r : tx.outcome().devices) {
    if (!r.after || r.after->driver) continue;
    const auto it = std::find_if(change.devices.begin(), change.devices.end(),
                                 [&](const auto& d) { return d.address == r.address; });
    if (it != change.devices.end() && it->any_host_driver) {
      tx.outcome().problems.push_back(
          fmt::format("{}: no host driver bound it; it is left without a driver", r.address.str()));
    }
  }
  if (prior) tx.settle(group, std::nullopt);
  tx.outcome().result = GroupResult::Released;
  return tx.finish();
}

GroupOutcome GroupTransaction::adopt(const GroupChange& change) {
  Transaction tx(*this, change);
  // Nothing is written to sysfs: the ledger only learns that the group is now ours to keep.
  tx.settle(
      *change.group,
      OwnedGroup{
          *change.group, OwnedGroup::How::Adopted, change.assignment, {}, false, change.owner});
  for (const auto& d : change.devices)
    tx.outcome().devices.push_back(DeviceResult{d.address, d.before, d.before});
  tx.outcome().result = GroupResult::Adopted;
  return tx.finish();
}

GroupOutcome GroupTransaction::forget(const GroupChange& change) {
  Transaction tx(*this, change);
  tx.settle(*change.group, std::nullopt);
  tx.outcome().result = GroupResult::Forgotten;
  return tx.finish();
}

}  // namespace vfio
