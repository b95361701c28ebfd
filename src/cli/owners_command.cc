#include "cli/owners_command.h"

#include <cerrno>
#include <map>
#include <ostream>

#include <fmt/format.h>
#include <fmt/ostream.h>
#include <spdlog/spdlog.h>
#include <nlohmann/json.hpp>

#include "cli/device_text.h"
#include "cli/exit_codes.h"
#include "cli/ownership_input.h"
#include "manifest/manifest_values.h"
#include "observe/observe.h"
#include "observe/pci_id_database.h"

namespace vfio::cli {
namespace {

using json = nlohmann::ordered_json;

std::string_view how_text(OwnedGroup::How how) {
  return how == OwnedGroup::How::Bound ? "bound" : "adopted";
}

// The record's groups by owner, limited to `wanted` when any are named (each named owner is
// listed, holding nothing if so).
std::map<std::string, std::vector<const OwnedGroup*>> by_owner(
    const OwnershipRecord& record, const std::vector<std::string>& wanted) {
  std::map<std::string, std::vector<const OwnedGroup*>> owners;
  for (const auto& name : wanted) owners[name];
  for (const auto& [number, group] : record.groups) {
    if (wanted.empty() || owners.count(group.owner)) owners[group.owner].push_back(&group);
  }
  return owners;
}

// The group's members as observed now, by address.
std::vector<const PciDevice*> members(const HostSnapshot& host, unsigned group) {
  std::vector<const PciDevice*> found;
  for (const auto& d : host.devices) {
    if (d.iommu_group == group) found.push_back(&d);
  }
  return found;
}

void print_text(const std::map<std::string, std::vector<const OwnedGroup*>>& owners,
                const HostSnapshot& host, const DeviceNames& names, std::ostream& out) {
  if (owners.empty()) {
    fmt::print(out, "No owner holds any IOMMU group.\n");
    return;
  }
  for (const auto& [owner, groups] : owners) {
    fmt::print(out, "Owner {}: {} group{}\n", owner, groups.size(), groups.size() == 1 ? "" : "s");
    for (const OwnedGroup* g : groups) {
      fmt::print(out, "  IOMMU group {}: {} for {}{}\n", g->group, how_text(g->how), g->assignment,
                 g->in_flight ? " (a run stopped in the middle of it: the next apply of its "
                                "owner finishes or undoes it)"
                              : "");
      const auto found = members(host, g->group);
      if (found.empty()) fmt::print(out, "    no device is in this group now\n");
      for (const PciDevice* d : found) {
        fmt::print(out, "    {}  {}  {}  {}\n", d->address.str(), ids_text(d->ids),
                   d->driver.value_or("no driver"), description_text(*d, names));
      }
    }
  }
}

json owners_json(const std::map<std::string, std::vector<const OwnedGroup*>>& owners,
                 const HostSnapshot& host) {
  json list = json::array();
  for (const auto& [owner, groups] : owners) {
    json held = json::array();
    for (const OwnedGroup* g : groups) {
      json devices = json::array();
      for (const PciDevice* d : members(host, g->group)) {
        devices.push_back({{"address", d->address.str()},
                           {"driver", d->driver ? json(*d->driver) : json(nullptr)}});
      }
      held.push_back({{"group", g->group},
                      {"how", how_text(g->how)},
                      {"assignment", g->assignment},
                      {"in_flight", g->in_flight},
                      {"devices", std::move(devices)}});
    }
    list.push_back({{"owner", owner}, {"groups", std::move(held)}});
  }
  return {{"format_version", kOwnersFormatVersion}, {"owners", std::move(list)}};
}

}  // namespace

int run_owners(const OwnersOptions& options, const CommandEnv& env) {
  for (const auto& name : options.owners) {
    std::string why;
    if (!is_owner_name(name, &why)) {
      spdlog::error("owners: {}", why);
      return kExitUsage;
    }
  }
  const LoadedRecord loaded = read_ownership(env);
  // Listing nothing would say nobody holds anything, which is not known.
  if (loaded.read_error) {
    spdlog::error("the ownership record cannot be read, so what each owner holds is not known{}",
                  loaded.read_error == EACCES || loaded.read_error == EPERM
                      ? " (it is root's: run as root)"
                      : "");
    return loaded.read_error == EACCES || loaded.read_error == EPERM ? kExitNotPermitted
                                                                     : kExitApplyFailed;
  }
  // The members are shown as they are now; without a PCI bus to read, the record alone is.
  HostSnapshot host;
  try {
    host = observe(env.sysfs, ObserveDetail::Planning);
  } catch (const ObserveError& e) {
    spdlog::warn("{}; the groups' devices are not shown", e.what());
  }
  const auto owners = by_owner(loaded.record, options.owners);
  if (options.json) {
    env.out << owners_json(owners, host).dump(2) << '\n';
  } else {
    print_text(owners, host, PciIdDatabase{}, env.out);
  }
  return kExitOk;
}

}  // namespace vfio::cli
