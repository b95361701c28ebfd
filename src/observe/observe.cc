#include "observe/observe.h"

#include <algorithm>
#include <cerrno>
#include <iterator>
#include <optional>
#include <set>
#include <vector>

#include <fmt/format.h>

#include "observe/device_reader.h"
#include "observe/host_context.h"
#include "observe/pci_id_database.h"
#include "sysfs/kernel_names.h"
#include "sysfs/sysfs.h"
#include "util/parallel.h"
#include "util/text_fields.h"

namespace vfio {
namespace {

std::vector<std::string> list_or_empty(Sysfs& sysfs, const SysPath& dir,
                                       std::vector<Finding>& findings) {
  auto entries = sysfs.list(dir);
  if (entries) return std::move(entries).value();
  if (entries.error().error != ENOENT) {
    findings.emplace_back(Finding::Kind::Unreadable, sysfs.display(dir),
                          fmt::format("cannot {}", entries.error().to_string()));
  }
  return {};
}

void read_groups(Sysfs& sysfs, HostSnapshot& snapshot) {
  const auto entries = list_or_empty(sysfs, paths::iommu_groups(), snapshot.findings);
  std::vector<std::optional<unsigned>> ids(entries.size());
  for (std::size_t i = 0; i < entries.size(); ++i)
    ids[i] = parse_whole_number<unsigned>(entries[i]);

  struct GroupResult {
    IommuGroup group;
    std::vector<Finding> findings;
  };
  std::vector<GroupResult> results(entries.size());
  for_each_index(entries.size(), [&](std::size_t i) {
    if (!ids[i]) return;
    const unsigned id = *ids[i];
    GroupResult& r = results[i];
    r.group.id = id;
    for (const auto& member : list_or_empty(sysfs, paths::iommu_group_devices(id), r.findings)) {
      std::string why;
      if (auto address = PciAddress::parse(member, &why)) {
        r.group.members.push_back(*address);
      } else {
        r.findings.emplace_back(Finding::Kind::Malformed,
                                sysfs.display(paths::iommu_group_devices(id) / member), why);
      }
    }
    std::sort(r.group.members.begin(), r.group.members.end());
  });

  for (std::size_t i = 0; i < entries.size(); ++i) {
    if (!ids[i]) {
      snapshot.findings.emplace_back(Finding::Kind::Malformed,
                                     sysfs.display(paths::iommu_groups() / entries[i]),
                                     "not an IOMMU group number");
      continue;
    }
    auto& r = results[i];
    snapshot.findings.insert(snapshot.findings.end(), std::make_move_iterator(r.findings.begin()),
                             std::make_move_iterator(r.findings.end()));
    snapshot.groups.emplace(*ids[i], std::move(r.group));
  }
}

// The device's iommu_group link and the group's member list are read at different moments; a
// disagreement means the host changed while we looked (or a broken tree): say so.
void cross_check_groups(Sysfs& sysfs, HostSnapshot& snapshot) {
  for (const auto& device : snapshot.devices) {
    if (!device.iommu_group) continue;
    auto group = snapshot.groups.find(*device.iommu_group);
    if (group == snapshot.groups.end() ||
        !std::binary_search(group->second.members.begin(), group->second.members.end(),
                            device.address)) {
      snapshot.findings.emplace_back(
          Finding::Kind::GroupMismatch,
          sysfs.display(paths::pci_device_file(device.address, "iommu_group")),
          fmt::format("{} links to IOMMU group {}, whose member list does not include it",
                      device.address.str(), *device.iommu_group),
          device.address);
    }
  }
}

}  // namespace

HostSnapshot observe(Sysfs& sysfs, ObserveDetail detail, KernelFiles* proc) {
  HostSnapshot snapshot;
  // Groups first: a member that vanishes while the devices are read is then still listed by its
  // group, and the planner can refuse to claim the rest of a group it cannot see whole.
  read_groups(sysfs, snapshot);
  // Then who holds which group open: reading a held device's driver_override blocks while an
  // unbind of it waits for the holder, so the members of held groups are read without it.
  const NodeHolders holders = read_node_holders(sysfs, proc);
  std::set<PciAddress> held;
  for (const auto& [group, who] : holders.by_group) {
    if (auto it = snapshot.groups.find(group); it != snapshot.groups.end())
      held.insert(it->second.members.begin(), it->second.members.end());
  }
  auto entries = sysfs.list(paths::pci_devices());
  if (!entries) {
    throw ObserveError(fmt::format("cannot {}: is this a sysfs tree with a PCI bus?",
                                   entries.error().to_string()));
  }
  std::vector<std::optional<PciAddress>> addresses(entries->size());
  std::vector<std::string> whys(entries->size());
  for (std::size_t i = 0; i < entries->size(); ++i)
    addresses[i] = PciAddress::parse((*entries)[i], &whys[i]);

  // Devices are read independently (in parallel on a large host), then taken in listing order.
  std::vector<DeviceRead> results(entries->size());
  for_each_index(entries->size(), [&](std::size_t i) {
    if (!addresses[i]) return;
    results[i] = read_device(sysfs, *addresses[i], detail, held.count(*addresses[i]) > 0);
  });

  snapshot.devices.reserve(entries->size());
  for (std::size_t i = 0; i < entries->size(); ++i) {
    const auto& address = addresses[i];
    if (!address) {
      snapshot.findings.emplace_back(Finding::Kind::Malformed,
                                     sysfs.display(paths::pci_devices() / (*entries)[i]), whys[i]);
      continue;
    }
    auto& r = results[i];
    snapshot.findings.insert(snapshot.findings.end(), std::make_move_iterator(r.findings.begin()),
                             std::make_move_iterator(r.findings.end()));
    if (r.vanished) {
      snapshot.findings.emplace_back(
          Finding::Kind::DeviceVanished, sysfs.display(paths::pci_device(*address)),
          fmt::format("{} vanished while being read; left out", address->str()), *address);
      continue;
    }
    snapshot.devices.push_back(std::move(r.device));
  }
  std::sort(snapshot.devices.begin(), snapshot.devices.end(),
            [](const PciDevice& a, const PciDevice& b) { return a.address < b.address; });

  cross_check_groups(sysfs, snapshot);
  snapshot.iommu_units = list_or_empty(sysfs, paths::iommu_units(), snapshot.findings);
  std::sort(snapshot.iommu_units.begin(), snapshot.iommu_units.end());
  auto drivers = list_or_empty(sysfs, paths::pci_drivers(), snapshot.findings);
  snapshot.vfio_pci_loaded =
      std::find(drivers.begin(), drivers.end(), kVfioPciDriver) != drivers.end();
  add_host_hazards(sysfs, proc, holders, snapshot);
  return snapshot;
}

}  // namespace vfio
