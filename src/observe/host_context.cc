#include "observe/host_context.h"

#include <set>

#include <fmt/format.h>

#include "observe/console_use.h"
#include "observe/network_use.h"
#include "observe/storage_use.h"

namespace vfio {
namespace {

// GpuInUse when the holder has one of the GPU's own nodes open (DRM, nvidia), else NodeOpen.
Hazard node_hazard(const NodeHolder& holder, const NodeHolders& holders) {
  std::set<DeviceNode::Kind> kinds;
  for (const auto& node : holder.nodes) {
    if (auto it = holders.device_nodes.find(node); it != holders.device_nodes.end())
      kinds.insert(it->second.kind);
  }
  const bool gpu = kinds.count(DeviceNode::Kind::Gpu) > 0;
  return {
      gpu ? Hazard::Kind::GpuInUse : Hazard::Kind::NodeOpen,
      fmt::format("{} holds {} open", describe_holders({holder}), describe_held_nodes({holder})),
      kinds.count(DeviceNode::Kind::Sound) > 0};
}

}  // namespace

NodeHolders read_node_holders(Sysfs& sysfs, KernelFiles* proc) {
  if (!proc) return {};
  // No node, no holder: on a host without vfio groups and device nodes, /proc is not read at all.
  std::vector<Finding> findings;
  const VfioNodes nodes = vfio_nodes(sysfs, findings);
  NodeHolders holders = find_node_holders(*proc, nodes, device_nodes(sysfs, proc, findings));
  holders.findings.insert(holders.findings.begin(), findings.begin(), findings.end());
  return holders;
}

void add_host_hazards(Sysfs& sysfs, KernelFiles* proc, const NodeHolders& holders,
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
  for (const auto& [address, who] : holders.by_device) {
    for (const auto& holder : who) found[address].push_back(node_hazard(holder, holders));
  }
  for (auto&& more : {find_network_use(sysfs, proc, snapshot.findings),
                      find_storage_use(sysfs, proc, snapshot.findings),
                      find_console_use(sysfs, proc, snapshot.findings)}) {
    for (const auto& [address, hazards] : more)
      found[address].insert(found[address].end(), hazards.begin(), hazards.end());
  }
  // First among a device's hazards: the one a person looks for before any other.
  for (const auto& d : snapshot.devices) {
    if (d.boot_vga.value_or(false)) {
      auto& hazards = found[d.address];
      hazards.insert(hazards.begin(), {Hazard::Kind::BootDisplay, "boot display"});
    }
  }
  for (auto& d : snapshot.devices) {
    if (auto it = found.find(d.address); it != found.end()) d.hazards = it->second;
  }
}

}  // namespace vfio
