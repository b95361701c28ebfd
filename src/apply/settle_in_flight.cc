#include "apply/settle_in_flight.h"

#include <set>

#include <spdlog/spdlog.h>

#include "apply/ownership_journal.h"
#include "sysfs/kernel_names.h"

namespace vfio {

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
    unsigned endpoints = 0, on_vfio = 0, overridden = 0, stranded = 0;
    for (const auto& d : host.devices) {
      if (d.iommu_group != group || d.kind != DeviceKind::Endpoint) continue;
      ++endpoints;
      if (d.driver == kVfioPciDriver) ++on_vfio;
      if (d.driver_override == kVfioPciDriver) ++overridden;
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
