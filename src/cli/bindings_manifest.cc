#include "cli/bindings_manifest.h"

#include <algorithm>
#include <map>
#include <optional>
#include <utility>
#include <vector>

#include <fmt/format.h>
#include <fmt/ranges.h>

#include "cli/device_text.h"
#include "manifest/desired_state.h"
#include "sysfs/kernel_names.h"

namespace vfio::cli {
namespace {

// A group the manifest takes: its endpoints, all on a vfio driver.
struct BoundGroup {
  unsigned id = 0;
  std::vector<const PciDevice*> endpoints;
  std::optional<std::string> variant;  // the one variant driver all of them are on, if any
};

// "0000:86:00.0 [10de:2331] NVIDIA Corporation GH100 [H100 PCIe] (vfio-pci)"
std::string device_line(const PciDevice& d, const DeviceNames& names) {
  return fmt::format("{} {} {} ({})", d.address.str(), ids_text(d.ids), name_text(d.ids, names),
                     d.driver.value_or("no driver"));
}

// Sorts each IOMMU group with endpoints into the groups the manifest takes and the reasons the
// others are left out (only groups with something on a vfio driver are mentioned).
void sort_groups(const HostSnapshot& host, const OwnershipRecord& owned,
                 std::vector<BoundGroup>& bound, std::vector<std::string>& left_out) {
  for (const auto& [id, group] : host.groups) {
    BoundGroup candidate{id, {}, std::nullopt};
    std::vector<std::string> not_on_vfio;
    std::map<std::string, int> drivers;
    for (const PciAddress& member : group.members) {
      const PciDevice* d = host.find(member);
      if (d == nullptr || d->kind != DeviceKind::Endpoint) continue;
      candidate.endpoints.push_back(d);
      if (d->on_vfio_driver()) {
        ++drivers[*d->driver];
      } else {
        not_on_vfio.push_back(
            fmt::format("{} is on {}", d->address.str(), d->driver.value_or("no driver")));
      }
    }
    if (drivers.empty()) continue;
    if (!not_on_vfio.empty()) {
      left_out.push_back(fmt::format("IOMMU group {}: only partly on a vfio driver ({})", id,
                                     fmt::join(not_on_vfio, ", ")));
      continue;
    }
    const auto record = owned.groups.find(id);
    if (record != owned.groups.end() && record->second.owner != kDefaultOwner) {
      left_out.push_back(
          fmt::format("IOMMU group {}: held by owner {} (bound for {}); its own manifest keeps it",
                      id, record->second.owner, record->second.assignment));
      continue;
    }
    if (drivers.size() == 1 && drivers.begin()->first != kVfioPciDriver) {
      candidate.variant = drivers.begin()->first;
    }
    bound.push_back(std::move(candidate));
  }
  for (const PciDevice& d : host.devices) {
    if (!d.iommu_group && d.on_vfio_driver()) {
      left_out.push_back(fmt::format("{}: on {} without an IOMMU group (no-IOMMU mode?)",
                                     d.address.str(), *d.driver));
    }
  }
}

void print_assignment(std::string& out, const std::string& name, const std::string& match,
                      const std::optional<std::string>& variant) {
  out += fmt::format("  - name: {}\n    state: vfio\n    match:\n{}", name, match);
  if (variant) out += fmt::format("    driver: {}\n", *variant);
}

}  // namespace

std::string bindings_manifest(const HostSnapshot& host, const OwnershipRecord& owned,
                              const DeviceNames& names, BindingsForm form) {
  std::vector<BoundGroup> bound;
  std::vector<std::string> left_out;
  sort_groups(host, owned, bound, left_out);

  std::string out = "# yaml-language-server: $schema=" VFIO_MANIFEST_SCHEMA "\n";
  if (form == BindingsForm::ByAddress) {
    out +=
        "# The host's vfio bindings as `vfio-reconcile show` found them: each IOMMU group whose\n"
        "# endpoints are all on a vfio driver, by the address of its first endpoint (the others\n"
        "# are its companions). Planned on this host, it claims and releases nothing.\n";
  } else {
    out +=
        "# The host's vfio bindings as `vfio-reconcile show --match-ids` found them: one\n"
        "# assignment per vendor:device of the first endpoint of each IOMMU group whose\n"
        "# endpoints are all on a vfio driver. On another host (or this one) it also takes\n"
        "# devices with those ids that are on host drivers.\n";
  }
  if (!host.iommu_active()) {
    out +=
        "# No IOMMU is active on this host: no device can be passed through, and a plan of\n"
        "# any manifest exits 69 (see `vfio-reconcile status`).\n";
  }
  out += "version: 1\n";
  out += bound.empty() ? "assignments: []\n" : "assignments:\n";
  if (form == BindingsForm::ByAddress) {
    for (const BoundGroup& g : bound) {
      out += fmt::format("  # IOMMU group {}:\n", g.id);
      for (const PciDevice* d : g.endpoints)
        out += fmt::format("  #   {}\n", device_line(*d, names));
      const PciAddress& first = g.endpoints.front()->address;
      std::string name = "pci-" + first.str();  // "pci-0000-86-00-0": a valid assignment name
      std::replace_if(
          name.begin(), name.end(), [](char c) { return c == ':' || c == '.'; }, '-');
      print_assignment(out, name, fmt::format("      address: \"{}\"\n", first.str()), g.variant);
    }
  } else {
    // By the first endpoint's ids, in the order first met; the groups each pair stands for.
    std::vector<std::pair<const BoundGroup*, std::vector<const BoundGroup*>>> by_ids;
    for (const BoundGroup& g : bound) {
      const PciIds& ids = g.endpoints.front()->ids;
      auto same = std::find_if(by_ids.begin(), by_ids.end(), [&](const auto& entry) {
        const PciIds& other = entry.first->endpoints.front()->ids;
        return other.vendor == ids.vendor && other.device == ids.device;
      });
      if (same == by_ids.end()) {
        by_ids.push_back({&g, {&g}});
      } else {
        same->second.push_back(&g);
      }
    }
    // (Not a structured binding: clang 14, the fuzz build's, cannot capture one in a lambda.)
    for (const auto& entry : by_ids) {
      const BoundGroup* first = entry.first;
      const std::vector<const BoundGroup*>& groups = entry.second;
      const PciDevice& d = *first->endpoints.front();
      std::vector<std::string> addresses;
      for (const BoundGroup* g : groups) addresses.push_back(g->endpoints.front()->address.str());
      out += fmt::format("  # {} {}: {} here ({})\n", ids_text(d.ids), name_text(d.ids, names),
                         groups.size(), fmt::join(addresses, ", "));
      const bool same_variant = std::all_of(groups.begin(), groups.end(), [&](const auto* g) {
        return g->variant == first->variant;
      });
      print_assignment(out, fmt::format("ids-{:04x}-{:04x}", d.ids.vendor, d.ids.device),
                       fmt::format("      vendor: \"{:04x}\"\n      device: \"{:04x}\"\n",
                                   d.ids.vendor, d.ids.device),
                       same_variant ? first->variant : std::nullopt);
    }
  }
  if (!left_out.empty()) {
    out += "# Left out:\n";
    for (const auto& why : left_out) out += fmt::format("#   {}\n", why);
  }
  return out;
}

}  // namespace vfio::cli
