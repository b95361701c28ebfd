#include "cli/status_json.h"

#include <fmt/format.h>

#include "cli/plan_json.h"
#include "cli/status_hints.h"

namespace vfio::cli {
namespace {

using json = nlohmann::ordered_json;

template <class T, class F>
json optional_json(const std::optional<T>& value, F&& convert) {
  return value ? json(convert(*value)) : json(nullptr);
}

// pci.ids's name, or null where it has none (absent values are null, as everywhere).
json known_name(const std::string& name) {
  return name.empty() ? json(nullptr) : json(name);
}

std::string hex4(uint16_t value) {
  return fmt::format("{:04x}", value);
}

}  // namespace

json device_json(const PciDevice& d, const DeviceNames& names) {
  const PciNames n = names.lookup(d.ids);
  auto identity = [](const auto& v) { return v; };
  auto address = [](const PciAddress& a) { return a.str(); };
  json sriov = nullptr;
  if (d.sriov) {
    json vfs = json::array();
    for (const auto& vf : d.sriov->vfs) vfs.push_back(vf.str());
    sriov = {{"total_vfs", d.sriov->total_vfs},
             {"enabled_vfs", d.sriov->enabled_vfs},
             {"vfs", std::move(vfs)},
             {"drivers_autoprobe", d.sriov->drivers_autoprobe}};
  }
  json hazards = json::array();
  for (const auto& h : d.hazards) {
    hazards.push_back({{"kind", std::string(to_string(h.kind))}, {"detail", h.detail}});
  }
  return {
      {"address", d.address.str()},
      {"vendor", hex4(d.ids.vendor)},
      {"device", hex4(d.ids.device)},
      {"subsystem_vendor", hex4(d.ids.subsystem_vendor)},
      {"subsystem_device", hex4(d.ids.subsystem_device)},
      {"class", fmt::format("0x{:06x}", d.ids.class_code)},
      {"kind", std::string(to_string(d.kind))},
      {"kind_from", d.kind_source == KindSource::ConfigHeader ? "config" : "class"},
      {"names",
       {{"vendor", known_name(n.vendor)},
        {"device", known_name(n.device)},
        {"class", known_name(n.class_name)}}},
      {"driver", optional_json(d.driver, identity)},
      {"driver_override", optional_json(d.driver_override, identity)},
      {"driver_override_unread", d.driver_override_unread},
      {"iommu_group", optional_json(d.iommu_group, identity)},
      {"boot_vga", optional_json(d.boot_vga, identity)},
      {"numa_node", optional_json(d.numa_node, identity)},
      {"physfn", optional_json(d.physfn, address)},
      {"sriov", std::move(sriov)},
      {"label", optional_json(d.label, identity)},
      {"hazards", std::move(hazards)},
  };
}

json status_json(const HostSnapshot& snapshot, const DeviceNames& names,
                 const OwnershipRecord& owned) {
  json groups = json::array();
  for (const auto& [id, group] : snapshot.groups) {
    json members = json::array();
    for (const auto& m : group.members) members.push_back(m.str());
    json held_by = nullptr;
    if (const OwnedGroup* held = owned.find(id)) held_by = holder_json(Holder::of(*held));
    groups.push_back({{"group", id}, {"devices", std::move(members)}, {"held_by", held_by}});
  }
  json devices = json::array();
  for (const auto& d : snapshot.devices) devices.push_back(device_json(d, names));
  json findings = json::array();
  for (const auto& f : snapshot.findings) {
    findings.push_back({{"kind", std::string(to_string(f.kind))},
                        {"device", f.device ? json(f.device->str()) : json(nullptr)},
                        {"path", f.path},
                        {"message", f.message}});
  }
  json hints = json::array();
  for (const auto& h : status_hints(snapshot)) {
    hints.push_back({{"kind", h.kind}, {"message", h.message}});
  }
  return {
      {"format_version", kStatusFormatVersion},
      {"iommu", {{"active", snapshot.iommu_active()}, {"units", snapshot.iommu_units}}},
      {"vfio_pci", {{"loaded", snapshot.vfio_pci_loaded}}},
      {"groups", std::move(groups)},
      {"devices", std::move(devices)},
      {"findings", std::move(findings)},
      {"hints", std::move(hints)},
  };
}

}  // namespace vfio::cli
