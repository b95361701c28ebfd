#include "observe/observe.h"

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <string_view>

#include <fmt/format.h>

#include "observe/pci_id_database.h"
#include "sysfs/sysfs.h"

namespace vfio {
namespace {

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.back() == '\n' || s.back() == ' ' || s.back() == '\t'))
    s.remove_suffix(1);
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  return s;
}

// The last component of a link target: "../../../bus/pci/drivers/e1000e" -> "e1000e".
std::string_view link_leaf(std::string_view target) {
  while (!target.empty() && target.back() == '/') target.remove_suffix(1);
  auto slash = target.rfind('/');
  return slash == std::string_view::npos ? target : target.substr(slash + 1);
}

template <class T>
std::optional<T> parse_number(std::string_view text, int base) {
  T value{};
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value, base);
  if (ec != std::errc() || end != text.data() + text.size() || text.empty()) return std::nullopt;
  return value;
}

// "0x10de" -> 0x10de, refusing anything wider than `max`.
std::optional<uint32_t> parse_hex_attribute(std::string_view text, uint32_t max) {
  if (text.size() < 3 || text.substr(0, 2) != "0x") return std::nullopt;
  auto value = parse_number<uint32_t>(text.substr(2), 16);
  if (!value || *value > max) return std::nullopt;
  return value;
}

bool gone(int error) {
  return error == ENOENT || error == ENODEV;
}

DeviceKind kind_from_class(uint32_t class_code) {
  switch (class_code >> 8) {
    case 0x0604:  // PCI-to-PCI bridge (root ports and switch ports too)
    case 0x0609:  // semi-transparent PCI-to-PCI bridge
      return DeviceKind::Bridge;
    case 0x0607:
      return DeviceKind::CardBusBridge;
    default:
      return DeviceKind::Endpoint;
  }
}

// Reads one device. A device whose directory disappears part-way is signalled by `vanished`.
class DeviceReader {
 public:
  DeviceReader(Sysfs& sysfs, const PciAddress& address, std::vector<Finding>& findings)
      : sysfs_(sysfs), address_(address), findings_(findings) {}

  bool vanished() const { return vanished_; }

  PciDevice read() {
    PciDevice d;
    d.address = address_;
    d.ids.vendor = static_cast<uint16_t>(hex_attribute("vendor", 0xffff).value_or(0));
    d.ids.device = static_cast<uint16_t>(hex_attribute("device", 0xffff).value_or(0));
    d.ids.subsystem_vendor =
        static_cast<uint16_t>(hex_attribute("subsystem_vendor", 0xffff).value_or(0));
    d.ids.subsystem_device =
        static_cast<uint16_t>(hex_attribute("subsystem_device", 0xffff).value_or(0));
    d.ids.class_code = hex_attribute("class", 0xffffff).value_or(0);
    read_kind(d);
    d.driver = optional_link_name("driver");
    if (auto text = text_attribute("driver_override"); text && *text != "(null)") {
      d.driver_override = std::string(*text);
    }
    if (auto group = optional_link_name("iommu_group")) {
      d.iommu_group = parse_number<unsigned>(*group, 10);
      if (!d.iommu_group) note("iommu_group", fmt::format("link names '{}', not a group", *group));
    }
    if (auto text = optional_text("boot_vga")) {
      if (*text == "0" || *text == "1")
        d.boot_vga = *text == "1";
      else
        note("boot_vga", fmt::format("unexpected value '{}'", *text));
    }
    if (auto text = optional_text("numa_node")) {
      auto node = parse_number<int>(*text, 10);
      if (!node)
        note("numa_node", fmt::format("unexpected value '{}'", *text));
      else if (*node >= 0)
        d.numa_node = node;
    }
    if (auto label = optional_text("label")) d.label = std::string(*label);
    if (auto pf = optional_link_name("physfn")) d.physfn = address_link(*pf, "physfn");
    read_sriov(d);
    return d;
  }

 private:
  SysPath path(std::string_view name) const { return paths::pci_device_file(address_, name); }

  void note(std::string_view name, std::string message) {
    findings_.push_back({sysfs_.display(path(name)), std::move(message)});
  }

  // A failed read: the device left (reported once, by the caller) or the attribute is odd.
  void failed(std::string_view name, const IoError& error) {
    if (gone(error.error) && device_gone()) {
      vanished_ = true;
      return;
    }
    note(name, fmt::format("cannot {}", error.to_string()));
  }

  bool device_gone() {
    auto link = sysfs_.read_link(paths::pci_device(address_));
    return !link && gone(link.error().error);
  }

  std::optional<std::string> raw(std::string_view name, bool optional,
                                 std::size_t max = Sysfs::kDefaultReadLimit) {
    if (vanished_) return std::nullopt;
    auto content = sysfs_.read(path(name), max);
    if (content) return std::move(content).value();
    if (optional && content.error().error == ENOENT && !device_gone()) return std::nullopt;
    failed(name, content.error());
    return std::nullopt;
  }

  std::optional<std::string> text_attribute(std::string_view name) {
    auto content = raw(name, false);
    if (!content) return std::nullopt;
    return std::string(trim(*content));
  }

  std::optional<std::string> optional_text(std::string_view name) {
    auto content = raw(name, true);
    if (!content) return std::nullopt;
    return std::string(trim(*content));
  }

  std::optional<uint32_t> hex_attribute(std::string_view name, uint32_t max) {
    auto text = text_attribute(name);
    if (!text) return std::nullopt;
    auto value = parse_hex_attribute(*text, max);
    if (!value) note(name, fmt::format("unexpected value '{}'", *text));
    return value;
  }

  // The leaf of a link that may be absent (no driver, no group): absence is not a finding.
  std::optional<std::string> optional_link_name(std::string_view name) {
    if (vanished_) return std::nullopt;
    auto target = sysfs_.read_link(path(name));
    if (!target) {
      if (target.error().error != ENOENT || device_gone()) failed(name, target.error());
      return std::nullopt;
    }
    std::string leaf(link_leaf(*target));
    if (!SysPath::is_valid_component(leaf)) {
      note(name, fmt::format("link target '{}' does not end in a usable name", *target));
      return std::nullopt;
    }
    return leaf;
  }

  std::optional<PciAddress> address_link(const std::string& leaf, std::string_view name) {
    std::string why;
    auto address = PciAddress::parse(leaf, &why);
    if (!address) note(name, why);
    return address;
  }

  void read_kind(PciDevice& d) {
    // Only the header is needed: bytes 0x00-0x3f.
    auto config = raw("config", true, 64);
    if (config && config->size() > 0x0e) {
      switch (static_cast<uint8_t>((*config)[0x0e]) & 0x7f) {
        case 0:
          d.kind = DeviceKind::Endpoint;
          return;
        case 1:
          d.kind = DeviceKind::Bridge;
          return;
        case 2:
          d.kind = DeviceKind::CardBusBridge;
          return;
        default:
          note("config", fmt::format("header type {:#04x} is unknown; using the class code",
                                     static_cast<uint8_t>((*config)[0x0e])));
      }
    } else if (config) {
      note("config", fmt::format("only {} bytes; using the class code", config->size()));
    }
    d.kind = kind_from_class(d.ids.class_code);
    d.kind_source = KindSource::ClassCode;
  }

  void read_sriov(PciDevice& d) {
    auto total = optional_text("sriov_totalvfs");
    if (!total) return;
    SriovInfo sriov;
    sriov.total_vfs = parse_number<unsigned>(*total, 10).value_or(0);
    if (auto enabled = text_attribute("sriov_numvfs")) {
      sriov.enabled_vfs = parse_number<unsigned>(*enabled, 10).value_or(0);
    }
    auto entries = sysfs_.list(paths::pci_device(address_));
    if (!entries) {
      failed("", entries.error());
      return;
    }
    std::vector<std::pair<unsigned, PciAddress>> vfs;
    for (const auto& entry : *entries) {
      if (entry.rfind("virtfn", 0) != 0) continue;
      auto index = parse_number<unsigned>(std::string_view(entry).substr(6), 10);
      auto leaf = optional_link_name(entry);
      if (!index || !leaf) continue;
      if (auto vf = address_link(*leaf, entry)) vfs.emplace_back(*index, *vf);
    }
    std::sort(vfs.begin(), vfs.end());
    for (const auto& [index, vf] : vfs) sriov.vfs.push_back(vf);
    d.sriov = std::move(sriov);
  }

  Sysfs& sysfs_;
  PciAddress address_;
  std::vector<Finding>& findings_;
  bool vanished_ = false;
};

std::vector<std::string> list_or_empty(Sysfs& sysfs, const SysPath& dir,
                                       std::vector<Finding>& findings) {
  auto entries = sysfs.list(dir);
  if (entries) return std::move(entries).value();
  if (entries.error().error != ENOENT) {
    findings.push_back({sysfs.display(dir), fmt::format("cannot {}", entries.error().to_string())});
  }
  return {};
}

void read_groups(Sysfs& sysfs, HostSnapshot& snapshot) {
  for (const auto& entry : list_or_empty(sysfs, paths::iommu_groups(), snapshot.findings)) {
    auto id = parse_number<unsigned>(entry, 10);
    if (!id) {
      snapshot.findings.push_back(
          {sysfs.display(paths::iommu_groups() / entry), "not an IOMMU group number"});
      continue;
    }
    IommuGroup group{*id, {}};
    for (const auto& member :
         list_or_empty(sysfs, paths::iommu_group_devices(*id), snapshot.findings)) {
      std::string why;
      if (auto address = PciAddress::parse(member, &why)) {
        group.members.push_back(*address);
      } else {
        snapshot.findings.push_back({sysfs.display(paths::iommu_group_devices(*id) / member), why});
      }
    }
    std::sort(group.members.begin(), group.members.end());
    snapshot.groups.emplace(*id, std::move(group));
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
      snapshot.findings.push_back(
          {sysfs.display(paths::pci_device_file(device.address, "iommu_group")),
           fmt::format("{} links to IOMMU group {}, whose member list does not include it",
                       device.address.str(), *device.iommu_group)});
    }
  }
}

}  // namespace

HostSnapshot observe(Sysfs& sysfs, const PciIdDatabase* names) {
  HostSnapshot snapshot;
  // Groups first: a member that vanishes while the devices are read is then still listed by its
  // group, and the planner can refuse to claim the rest of a group it cannot see whole.
  read_groups(sysfs, snapshot);
  auto entries = sysfs.list(paths::pci_devices());
  if (!entries) {
    throw ObserveError(fmt::format("cannot {}: is this a sysfs tree with a PCI bus?",
                                   entries.error().to_string()));
  }
  for (const auto& entry : *entries) {
    std::string why;
    auto address = PciAddress::parse(entry, &why);
    if (!address) {
      snapshot.findings.push_back({sysfs.display(paths::pci_devices() / entry), why});
      continue;
    }
    DeviceReader reader(sysfs, *address, snapshot.findings);
    PciDevice device = reader.read();
    if (reader.vanished()) {
      snapshot.findings.push_back(
          {sysfs.display(paths::pci_device(*address)),
           fmt::format("{} vanished while being read; left out", address->str())});
      continue;
    }
    if (names) device.names = names->lookup(device.ids);
    snapshot.devices.push_back(std::move(device));
  }
  std::sort(snapshot.devices.begin(), snapshot.devices.end(),
            [](const PciDevice& a, const PciDevice& b) { return a.address < b.address; });

  cross_check_groups(sysfs, snapshot);
  snapshot.iommu_units = list_or_empty(sysfs, paths::iommu_units(), snapshot.findings);
  std::sort(snapshot.iommu_units.begin(), snapshot.iommu_units.end());
  auto drivers = list_or_empty(sysfs, paths::pci_drivers(), snapshot.findings);
  snapshot.vfio_pci_loaded = std::find(drivers.begin(), drivers.end(), "vfio-pci") != drivers.end();
  return snapshot;
}

}  // namespace vfio
