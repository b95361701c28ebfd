#include "apply/settle_in_flight.h"

#include <set>

#include <spdlog/spdlog.h>

#include "apply/ownership_journal.h"

namespace vfio {

namespace {

bool vf_count_done(const OwnedGroup& entry, const HostSnapshot& host) {
  for (const auto& kept : entry.vfs) {
    const PciDevice* pf = host.find(kept.pf);
    if (!pf || !pf->sriov || pf->sriov->drivers_autoprobe != kept.original_autoprobe) {
      return false;
    }
    for (const auto& address : pf->sriov->vfs) {
      const PciDevice* vf = host.find(address);
      if (!vf || !vf->on_vfio_driver()) return false;
    }
  }
  return true;
}

}  // namespace

std::map<unsigned, std::optional<OwnedGroup>> settle_in_flight(const OwnershipRecord& record,
                                                               const HostSnapshot& host,
                                                               const ApplyOutcome& outcome) {
  std::set<unsigned> touched;
  for (const auto& g : outcome.groups) {
    if (g.change && g.change->group && g.result != GroupResult::Unchanged) {
      touched.insert(*g.change->group);
    }
  }
  std::map<unsigned, std::optional<OwnedGroup>> updates;
  for (const auto& [group, entry] : record.groups) {
    if (!entry.in_flight || touched.count(group)) continue;
    if (!entry.vfs.empty()) {
      // A PF's VF count change is finished or given back by the planner, which reads the
      // originals kept here; the entry is only settled once the change is seen done (the run
      // that made its last write stopped before saying so): every VF on vfio-pci, and VF
      // autoprobe as it was.
      if (vf_count_done(entry, host)) {
        OwnedGroup done = entry;
        done.in_flight = false;
        updates[group] = done;
      }
      continue;
    }
    unsigned endpoints = 0, on_vfio = 0, overridden = 0, stranded = 0;
    for (const auto& d : host.devices) {
      if (d.iommu_group != group || d.kind != DeviceKind::Endpoint) continue;
      ++endpoints;
      if (d.on_vfio_driver()) ++on_vfio;
      if (d.overridden_to_vfio_driver()) ++overridden;
      // A release that stopped between the unbind and the probe.
      const OwnedDevice* recorded = entry.find(d.address);
      if (!d.driver && recorded && recorded->original_driver) ++stranded;
    }
    if (endpoints > 0 && on_vfio == endpoints) {
      OwnedGroup done = entry;
      done.in_flight = false;
      updates[group] = done;
    } else if (on_vfio == 0 && overridden == 0 && stranded == 0) {
      updates[group] = std::nullopt;
    }
  }
  return updates;
}

void settle_ledger(OwnershipLedger& ledger, const HostSnapshot& host, const ApplyOutcome& outcome) {
  for (const auto& [group, entry] : settle_in_flight(ledger.record(), host, outcome)) {
    try {
      ledger.set(group, entry);
    } catch (const StateDirError& e) {
      spdlog::warn("{}", e.what());
    }
  }
}

}  // namespace vfio
