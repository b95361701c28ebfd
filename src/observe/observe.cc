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

// Reads each group's member list: every group's, or with `only`, those (a number that is no
// group any more reads as none, without a finding).
void read_groups(Sysfs& sysfs, HostSnapshot& snapshot, const std::set<unsigned>* only = nullptr) {
  std::vector<std::string> entries;
  if (only) {
    for (unsigned id : *only) entries.push_back(std::to_string(id));
  } else {
    entries = list_or_empty(sysfs, paths::iommu_groups(), snapshot.findings);
  }
  std::vector<std::optional<unsigned>> ids(entries.size());
  for (std::size_t i = 0; i < entries.size(); ++i)
    ids[i] = parse_whole_number<unsigned>(entries[i]);

  struct GroupResult {
    IommuGroup group;
    std::vector<Finding> findings;
    bool listed = false;
  };
  std::vector<GroupResult> results(entries.size());
  for_each_index(entries.size(), [&](std::size_t i) {
    if (!ids[i]) return;
    const unsigned id = *ids[i];
    GroupResult& r = results[i];
    r.group.id = id;
    auto members = sysfs.list(paths::iommu_group_devices(id));
    if (!members) {
      if (members.error().error != ENOENT) {
        r.findings.emplace_back(Finding::Kind::Unreadable,
                                sysfs.display(paths::iommu_group_devices(id)),
                                fmt::format("cannot {}", members.error().to_string()));
      }
      // A group that lists no member directory is kept, empty, when all groups were listed:
      // it was there; asked for by number, it is not.
      r.listed = only == nullptr;
      return;
    }
    r.listed = true;
    for (const auto& member : *members) {
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
    if (r.listed) snapshot.groups.emplace(*ids[i], std::move(r.group));
  }
}

// The entries of bus/pci/devices, parsed; a name that is no address is a finding.
std::vector<PciAddress> list_devices(Sysfs& sysfs, HostSnapshot& snapshot) {
  auto entries = sysfs.list(paths::pci_devices());
  if (!entries) {
    throw ObserveError(fmt::format("cannot {}: is this a sysfs tree with a PCI bus?",
                                   entries.error().to_string()));
  }
  std::vector<PciAddress> addresses;
  addresses.reserve(entries->size());
  for (const auto& entry : *entries) {
    std::string why;
    if (auto address = PciAddress::parse(entry, &why)) {
      addresses.push_back(*address);
    } else {
      snapshot.findings.emplace_back(Finding::Kind::Malformed,
                                     sysfs.display(paths::pci_devices() / entry), why);
    }
  }
  return addresses;
}

// The members of the groups whose VFIO node is held open: their driver_override is not read
// (that read blocks while an unbind of the device waits for the holder).
std::set<PciAddress> held_members(const NodeHolders& holders, const HostSnapshot& snapshot) {
  std::set<PciAddress> held;
  for (const auto& [group, who] : holders.by_group) {
    if (auto it = snapshot.groups.find(group); it != snapshot.groups.end())
      held.insert(it->second.members.begin(), it->second.members.end());
  }
  return held;
}

// Reads each of `addresses` at `detail`, independently (in parallel on a large host).
std::vector<DeviceRead> read_each(Sysfs& sysfs, const std::vector<PciAddress>& addresses,
                                  ObserveDetail detail, const std::set<PciAddress>& held) {
  std::vector<DeviceRead> results(addresses.size());
  for_each_index(addresses.size(), [&](std::size_t i) {
    results[i] = read_device(sysfs, addresses[i], detail, held.count(addresses[i]) > 0);
  });
  return results;
}

Finding vanished_finding(Sysfs& sysfs, const PciAddress& address) {
  return Finding(Finding::Kind::DeviceVanished, sysfs.display(paths::pci_device(address)),
                 fmt::format("{} vanished while being read; left out", address.str()), address);
}

// Reads each of `addresses` at `detail` into `devices`, in the order given; one that vanished
// while read is left out with a finding.
void read_devices(Sysfs& sysfs, const std::vector<PciAddress>& addresses, ObserveDetail detail,
                  const std::set<PciAddress>& held, std::vector<PciDevice>& devices,
                  std::vector<Finding>& findings) {
  auto results = read_each(sysfs, addresses, detail, held);
  for (std::size_t i = 0; i < addresses.size(); ++i) {
    auto& r = results[i];
    findings.insert(findings.end(), std::make_move_iterator(r.findings.begin()),
                    std::make_move_iterator(r.findings.end()));
    if (r.vanished) {
      findings.push_back(vanished_finding(sysfs, addresses[i]));
      continue;
    }
    devices.push_back(std::move(r.device));
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

// What every observation ends with: the devices in address order, checked against their groups'
// member lists; the IOMMU units; whether vfio-pci is loaded; the wider host's hazards.
void finish(Sysfs& sysfs, KernelFiles* proc, const NodeHolders& holders, HostSnapshot& snapshot) {
  std::sort(snapshot.devices.begin(), snapshot.devices.end(),
            [](const PciDevice& a, const PciDevice& b) { return a.address < b.address; });
  cross_check_groups(sysfs, snapshot);
  snapshot.iommu_units = list_or_empty(sysfs, paths::iommu_units(), snapshot.findings);
  std::sort(snapshot.iommu_units.begin(), snapshot.iommu_units.end());
  auto drivers = list_or_empty(sysfs, paths::pci_drivers(), snapshot.findings);
  snapshot.vfio_pci_loaded =
      std::find(drivers.begin(), drivers.end(), kVfioPciDriver) != drivers.end();
  add_host_hazards(sysfs, proc, holders, snapshot);
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
  const std::vector<PciAddress> addresses = list_devices(sysfs, snapshot);
  read_devices(sysfs, addresses, detail, held_members(holders, snapshot), snapshot.devices,
               snapshot.findings);
  finish(sysfs, proc, holders, snapshot);
  return snapshot;
}

HostSnapshot observe_scope(Sysfs& sysfs, const ObserveScope& scope, ObserveDetail detail,
                           KernelFiles* proc) {
  HostSnapshot snapshot;
  // Every device's identity (one read of uevent each): what the scope's matching needs.
  const std::vector<PciAddress> listed = list_devices(sysfs, snapshot);
  std::vector<DeviceRead> identities = read_each(sysfs, listed, ObserveDetail::Identity, {});

  // Only what the bus lists: a recorded device that is gone is simply not here.
  const std::set<PciAddress> present(listed.begin(), listed.end());
  std::set<PciAddress> wanted;
  for (const auto& a : scope.addresses) {
    if (present.count(a)) wanted.insert(a);
  }
  if (scope.wanted) {
    for (const auto& r : identities) {
      if (!r.vanished && scope.wanted(r.device)) wanted.insert(r.device.address);
    }
  }
  // The identities are let go before the full reads (10,000 devices' worth on a big host); what
  // was odd in them is kept aside.
  std::vector<Finding> identity_findings;
  for (std::size_t i = 0; i < listed.size(); ++i) {
    auto& r = identities[i];
    for (auto& f : r.findings) identity_findings.push_back(std::move(f));
    if (r.vanished) identity_findings.push_back(vanished_finding(sysfs, listed[i]));
  }
  identities = {};
  std::set<unsigned> groups(scope.groups.begin(), scope.groups.end());
  std::set<unsigned> asked_groups;  // each group's members are listed once
  const NodeHolders holders = read_node_holders(sysfs, proc);
  std::set<PciAddress> read;  // in full
  // Rounds, while something new is wanted: an SR-IOV PF read brings its VFs in, a VF its PF.
  while (true) {
    std::vector<PciAddress> fresh;
    for (const auto& a : wanted) {
      if (!read.count(a)) fresh.push_back(a);
    }
    // The groups of the devices wanted, then those groups' members: the planner decides whole
    // groups. Groups before their members are read, as observe() does.
    std::vector<std::optional<unsigned>> links(fresh.size());
    for_each_index(fresh.size(),
                   [&](std::size_t i) { links[i] = read_iommu_group_link(sysfs, fresh[i]); });
    std::set<unsigned> new_groups;
    for (const auto& group : links) {
      if (group && !snapshot.groups.count(*group)) new_groups.insert(*group);
    }
    for (unsigned g : groups) {
      if (!snapshot.groups.count(g)) new_groups.insert(g);
    }
    groups.clear();
    asked_groups.insert(new_groups.begin(), new_groups.end());
    read_groups(sysfs, snapshot, &new_groups);
    for (unsigned g : new_groups) {
      if (auto it = snapshot.groups.find(g); it != snapshot.groups.end()) {
        for (const auto& m : it->second.members) {
          if (!read.count(m) && !wanted.count(m)) fresh.push_back(m);
        }
      }
    }
    std::sort(fresh.begin(), fresh.end());
    fresh.erase(std::unique(fresh.begin(), fresh.end()), fresh.end());
    if (fresh.empty()) break;
    const std::size_t before = snapshot.devices.size();
    read_devices(sysfs, fresh, detail, held_members(holders, snapshot), snapshot.devices,
                 snapshot.findings);
    read.insert(fresh.begin(), fresh.end());
    for (std::size_t i = before; i < snapshot.devices.size(); ++i) {
      const PciDevice& d = snapshot.devices[i];
      if (d.sriov) {
        for (const auto& vf : d.sriov->vfs) {
          if (present.count(vf)) wanted.insert(vf);
        }
      }
      if (d.physfn && present.count(*d.physfn)) wanted.insert(*d.physfn);
      // A group its link names now that was not asked for (the link changed, or could not be
      // read before): read it whole too, once.
      if (d.iommu_group && !snapshot.groups.count(*d.iommu_group) &&
          asked_groups.insert(*d.iommu_group).second) {
        groups.insert(*d.iommu_group);
      }
    }
  }
  // What was odd about a device not read again in full (it vanished, say) is still said.
  for (auto& f : identity_findings) {
    if (!f.device || !read.count(*f.device)) snapshot.findings.push_back(std::move(f));
  }
  finish(sysfs, proc, holders, snapshot);
  return snapshot;
}

}  // namespace vfio
