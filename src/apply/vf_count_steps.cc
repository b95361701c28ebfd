#include "apply/vf_count_steps.h"

#include <algorithm>
#include <thread>

#include <fmt/format.h>

#include "apply/ownership_journal.h"
#include "sysfs/sys_path.h"
#include "util/text_fields.h"

namespace vfio {
namespace {

using Clock = std::chrono::steady_clock;

std::string vf_link(unsigned index) {
  return fmt::format("virtfn{}", index);
}

}  // namespace

GroupOutcome VfCountSteps::run(const GroupChange& change) {
  const auto start = Clock::now();
  GroupOutcome out;
  out.change = &change;
  for (const auto& d : change.devices) out.devices.push_back({d.address, d.before, d.before});
  for (const auto& v : change.vf_counts) {
    if (auto failure = set(change, v, out.problems)) {
      out.result = GroupResult::Failed;
      out.failure = std::move(failure);
      out.problems.push_back(fmt::format(
          "{}: the ownership record keeps its VF count and autoprobe as they were ({} VFs, "
          "autoprobe {}); the next apply finishes the change or gives them back",
          v.pf.str(), v.record.original_count, v.record.original_autoprobe ? "on" : "off"));
      out.elapsed = std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - start);
      return out;
    }
  }
  out.result = GroupResult::VfsSet;
  out.elapsed = std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - start);
  return out;
}

std::optional<StepFailure> VfCountSteps::set(const GroupChange& change, const VfCount& v,
                                             std::vector<std::string>& notes) {
  if (auto f = record(change, v)) return f;
  const bool count_changes = v.from != v.to;
  if (count_changes) {
    // No host VF driver may meet the VFs about to appear (and none is probed while they go).
    auto autoprobe = read_number(v.pf, "sriov_drivers_autoprobe");
    if (!autoprobe || *autoprobe != 0) {
      if (auto f = write(v.pf, "sriov_drivers_autoprobe", "0")) return f;
      if (auto f = wait_for(v.pf, "sriov_drivers_autoprobe", 0)) return f;
    }
    // The kernel takes a new count only from 0 (EBUSY otherwise).
    if (v.from != 0) {
      if (auto f = write(v.pf, "sriov_numvfs", "0")) return f;
      if (auto f = wait_for(v.pf, "sriov_numvfs", 0)) return f;
      forget_vf_groups(v, notes);
    }
    if (v.to != 0) {
      if (auto f = write(v.pf, "sriov_numvfs", std::to_string(v.to))) return f;
      if (auto f = wait_for(v.pf, "sriov_numvfs", v.to)) return f;
    }
  }
  if (v.restore) {
    // Each VF that existed before goes back to its driver, pinned by its override for the
    // probe: with autoprobe off nothing else would bind it, and with it on another could.
    for (unsigned i = 0; i < v.record.original_drivers.size() && i < v.to; ++i) {
      const auto& driver = v.record.original_drivers[i];
      auto leaf = sysfs_.read_link(paths::pci_device_file(v.pf, vf_link(i)));
      if (!leaf) {
        return StepFailure{v.pf, fmt::format("find VF {}", i), leaf.error().to_string(),
                           leaf.error().error};
      }
      const std::string& target = *leaf;
      auto vf = PciAddress::parse(target.substr(target.rfind('/') + 1));
      if (!vf) {
        return StepFailure{v.pf, fmt::format("find VF {}", i),
                           fmt::format("{} does not lead to a PCI device",
                                       sysfs_.display(paths::pci_device_file(v.pf, vf_link(i)))),
                           0};
      }
      auto now = read_binding(sysfs_, *vf);
      if (!now) {
        return StepFailure{*vf, "read its binding", now.error().to_string(), now.error().error};
      }
      if (now->driver == driver && !now->override) continue;
      if (auto f = steps_.restore(*vf, Binding{driver, std::nullopt}, notes)) return f;
    }
    forget_vf_groups(v, notes);  // those still there are back where they were: no longer held
  }
  if (v.autoprobe_to != (read_number(v.pf, "sriov_drivers_autoprobe").value_or(1) != 0)) {
    const unsigned want = v.autoprobe_to ? 1 : 0;
    if (auto f = write(v.pf, "sriov_drivers_autoprobe", std::to_string(want))) return f;
    if (auto f = wait_for(v.pf, "sriov_drivers_autoprobe", want)) return f;
  }
  settle(change, v, notes);
  return std::nullopt;
}

std::optional<StepFailure> VfCountSteps::write(const PciAddress& pf, const std::string& file,
                                               const std::string& value) {
  auto written = sysfs_.write(paths::pci_device_file(pf, file), value);
  if (written) return std::nullopt;
  return StepFailure{pf, fmt::format("set {} to {}", file, value), written.error().to_string(),
                     written.error().error};
}

std::optional<unsigned> VfCountSteps::read_number(const PciAddress& pf, const std::string& file) {
  auto text = sysfs_.read(paths::pci_device_file(pf, file), 64);
  if (!text) return std::nullopt;
  return parse_whole_number<unsigned>(trim(*text), 10);
}

std::optional<StepFailure> VfCountSteps::wait_for(const PciAddress& pf, const std::string& file,
                                                  unsigned value) {
  const auto deadline = Clock::now() + timeout_;
  const bool count = file == "sriov_numvfs";
  for (auto pause = std::chrono::milliseconds(1);;
       pause = std::min(pause * 2, std::chrono::milliseconds(20))) {
    const auto now = read_number(pf, file);
    // The count is written before the VFs are added: wait for the last one's link too.
    const bool there =
        now == value &&
        (!count || value == 0 ||
         sysfs_.read_link(paths::pci_device_file(pf, vf_link(value - 1))).ok()) &&
        (!count || !sysfs_.read_link(paths::pci_device_file(pf, vf_link(value))).ok());
    if (there) return std::nullopt;
    if (Clock::now() >= deadline) {
      return StepFailure{
          pf, fmt::format("wait for {} {}", file, value),
          fmt::format("{} reads {} after {} ms", sysfs_.display(paths::pci_device_file(pf, file)),
                      now ? std::to_string(*now) : std::string("nothing readable"),
                      timeout_.count()),
          0};
    }
    std::this_thread::sleep_for(pause);
  }
}

std::optional<StepFailure> VfCountSteps::record(const GroupChange& change, const VfCount& v) {
  const unsigned group = *change.group;
  OwnedGroup entry = ledger_.find(group).value_or(
      OwnedGroup{group, OwnedGroup::How::Bound, change.assignment, {}, false, change.owner, {}});
  if (!v.restore) {
    entry.assignment = change.assignment;
    entry.owner = change.owner;
  }
  bool found = false;
  for (auto& kept : entry.vfs) {
    if (kept.pf == v.pf) {
      kept = v.record;
      found = true;
    }
  }
  if (!found) entry.vfs.push_back(v.record);
  entry.in_flight = true;
  try {
    ledger_.set(group, entry);
  } catch (const StateDirError& e) {
    return StepFailure{v.pf, "record the change", e.what(), e.error()};
  }
  return std::nullopt;
}

void VfCountSteps::save(unsigned group, std::optional<OwnedGroup> entry,
                        std::vector<std::string>& notes) {
  try {
    ledger_.set(group, std::move(entry));
  } catch (const StateDirError& e) {
    notes.push_back(fmt::format("the ownership record was not updated: {}", e.what()));
  }
}

void VfCountSteps::forget_vf_groups(const VfCount& v, std::vector<std::string>& notes) {
  const OwnershipRecord record = ledger_.record();
  for (const auto& [group, entry] : record.groups) {
    for (const auto& d : entry.devices) {
      if (std::find(v.vfs_before.begin(), v.vfs_before.end(), d.address) != v.vfs_before.end()) {
        save(group, std::nullopt, notes);
        break;
      }
    }
  }
}

void VfCountSteps::settle(const GroupChange& change, const VfCount& v,
                          std::vector<std::string>& notes) {
  const unsigned group = *change.group;
  auto entry = ledger_.find(group);
  if (!entry) return;
  if (v.restore) {
    std::erase_if(entry->vfs, [&](const OwnedVfs& kept) { return kept.pf == v.pf; });
    if (entry->vfs.empty() && entry->devices.empty()) {
      save(group, std::nullopt, notes);
      return;
    }
  }
  entry->in_flight = false;
  save(group, *entry, notes);
}

}  // namespace vfio
