#include "observe/host_context.h"

#include <fmt/format.h>

#include "observe/console_use.h"
#include "observe/network_use.h"
#include "observe/storage_use.h"

namespace vfio {

VfioHolders read_vfio_holders(Sysfs& sysfs, KernelFiles* proc) {
  if (!proc) return {};
  // No node, no holder: on a host without vfio groups, /proc is not read at all.
  std::vector<Finding> findings;
  const VfioNodes nodes = vfio_nodes(sysfs, findings);
  VfioHolders holders = find_vfio_holders(*proc, nodes);
  holders.findings.insert(holders.findings.begin(), findings.begin(), findings.end());
  return holders;
}

void add_host_hazards(Sysfs& sysfs, KernelFiles* proc, const VfioHolders& holders,
                      HostSnapshot& snapshot) {
  snapshot.findings.insert(snapshot.findings.end(), holders.findings.begin(),
                           holders.findings.end());
  HazardsByDevice found;
  for (const auto& [group, who] : holders.by_group) {
    const std::string detail =
        fmt::format("in use by {}, which hold{} {} open", describe_holders(who),
                    who.size() == 1 ? "s" : "", describe_held_nodes(who));
    for (const auto& d : snapshot.devices) {
      if (d.iommu_group == group && d.kind == DeviceKind::Endpoint)
        found[d.address].push_back({Hazard::Kind::HeldOpen, detail});
    }
  }
  if (holders.unseen) {
    const std::string detail =
        fmt::format("whether a process holds its /dev/vfio node is not known: {}", *holders.unseen);
    for (const auto& d : snapshot.devices) {
      if (d.iommu_group && holders.nodes.count(*d.iommu_group) && d.kind == DeviceKind::Endpoint)
        found[d.address].push_back({Hazard::Kind::HoldersUnknown, detail});
    }
  }
  for (auto&& more : {find_network_use(sysfs, proc, snapshot.findings),
                      find_storage_use(sysfs, proc, snapshot.findings),
                      find_console_use(sysfs, proc, snapshot.findings)}) {
    for (const auto& [address, hazards] : more)
      found[address].insert(found[address].end(), hazards.begin(), hazards.end());
  }
  for (auto& d : snapshot.devices) {
    if (auto it = found.find(d.address); it != found.end()) d.hazards = it->second;
  }
}

}  // namespace vfio
