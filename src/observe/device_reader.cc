#include "observe/device_reader.h"

#include <algorithm>
#include <cerrno>
#include <optional>
#include <string_view>
#include <utility>

#include <fmt/format.h>

#include "observe/pci_uevent.h"
#include "sysfs/kernel_names.h"
#include "util/hex.h"
#include "util/text_fields.h"

namespace vfio {
namespace {

// "0x10de" -> 0x10de, refusing anything wider than `max`.
std::optional<uint32_t> parse_hex_attribute(std::string_view text, uint32_t max) {
  if (text.size() < 3 || text.substr(0, 2) != "0x") return std::nullopt;
  auto value = parse_hex(text.substr(2));
  if (!value || *value > max) return std::nullopt;
  return value;
}

// pci_is_vga(): a VGA-compatible display controller, or a pre-2.0 device that says it is VGA.
bool is_vga(uint32_t class_code) {
  return (class_code >> 8) == 0x0300 || (class_code >> 8) == 0x0001;
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
  DeviceReader(Sysfs& sysfs, const PciAddress& address, ObserveDetail detail, bool held,
               std::vector<Finding>& findings)
      : sysfs_(sysfs),
        address_(address),
        detail_(detail),
        held_(held),
        device_path_(paths::pci_device(address)),
        findings_(findings) {}

  bool vanished() const { return vanished_; }

  PciDevice read() {
    PciDevice d;
    d.address = address_;
    // One read of uevent gives the ids, the class and the driver; the five attribute files and
    // the driver link are the fallback when it does not.
    const bool from_uevent = read_uevent(d);
    if (!from_uevent) {
      d.ids.vendor = static_cast<uint16_t>(hex_attribute("vendor", 0xffff).value_or(0));
      d.ids.device = static_cast<uint16_t>(hex_attribute("device", 0xffff).value_or(0));
      d.ids.subsystem_vendor =
          static_cast<uint16_t>(hex_attribute("subsystem_vendor", 0xffff).value_or(0));
      d.ids.subsystem_device =
          static_cast<uint16_t>(hex_attribute("subsystem_device", 0xffff).value_or(0));
      d.ids.class_code = hex_attribute("class", 0xffffff).value_or(0);
    }
    if (!from_uevent) d.driver = optional_link_name("driver");
    if (detail_ == ObserveDetail::Identity) {
      if (absent_ && !vanished_ && device_gone()) vanished_ = true;
      return d;
    }
    read_kind(d);
    if (held_) {
      d.driver_override_unread = true;
    } else if (auto text = text_attribute("driver_override"); text && *text != kUnsetOverride) {
      d.driver_override = std::string(*text);
    }
    if (auto group = optional_link_name("iommu_group")) {
      d.iommu_group = parse_whole_number<unsigned>(*group, 10);
      if (!d.iommu_group) note("iommu_group", fmt::format("link names '{}', not a group", *group));
    }
    // The kernel gives boot_vga to VGA devices only (pci_dev_attrs_are_visible): elsewhere its
    // absence is certain and not worth an open.
    if (is_vga(d.ids.class_code)) {
      if (auto text = optional_text("boot_vga")) {
        if (*text == "0" || *text == "1")
          d.boot_vga = *text == "1";
        else
          note("boot_vga", fmt::format("unexpected value '{}'", *text));
      }
    }
    if (detail_ == ObserveDetail::Full) {
      read_status_only(d);
    } else if (detail_ == ObserveDetail::PlanningSriov) {
      read_sr_iov(d);
    }
    // Optional attributes that were absent: absent from a device that is still here (asked
    // once, not after each one), or the device left while being read.
    if (absent_ && !vanished_ && device_gone()) vanished_ = true;
    return d;
  }

 private:
  // What only `status` shows: NUMA node, slot label, the PF of a VF, SR-IOV.
  void read_status_only(PciDevice& d) {
    if (auto text = optional_text("numa_node")) {
      auto node = parse_whole_number<int>(*text, 10);
      if (!node)
        note("numa_node", fmt::format("unexpected value '{}'", *text));
      else if (*node >= 0)
        d.numa_node = node;
    }
    if (auto label = optional_text("label")) d.label = std::string(*label);
    read_sr_iov(d);
  }

  // The PF of a VF; a PF's SR-IOV state.
  void read_sr_iov(PciDevice& d) {
    if (auto pf = optional_link_name("physfn")) d.physfn = address_link(*pf, "physfn");
    read_sriov(d);
  }

  // paths::pci_device_file(address_, name), without formatting the address for every file.
  SysPath path(std::string_view name) const { return device_path_ / name; }

  // Something odd about one of this device's files: what was read is not what the kernel
  // writes there, unless told otherwise.
  void note(std::string_view name, std::string message,
            Finding::Kind kind = Finding::Kind::Malformed) {
    findings_.emplace_back(kind, sysfs_.display(path(name)), std::move(message), address_);
  }

  // A failed read: the device left (reported once, by the caller) or the attribute is odd.
  void failed(std::string_view name, const IoError& error) {
    if (gone(error.error) && device_gone()) {
      vanished_ = true;
      return;
    }
    note(name, fmt::format("cannot {}", error.to_string()), Finding::Kind::Unreadable);
  }

  bool device_gone() {
    auto link = sysfs_.read_link(device_path_);
    return !link && gone(link.error().error);
  }

  std::optional<std::string> raw(std::string_view name, bool optional,
                                 std::size_t max = Sysfs::kDefaultReadLimit) {
    if (vanished_) return std::nullopt;
    auto content = sysfs_.read(path(name), max);
    if (content) return std::move(content).value();
    if (optional && content.error().error == ENOENT) {
      absent_ = true;  // read() asks whether the device is still there at the end
      return std::nullopt;
    }
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
      if (target.error().error == ENOENT)
        absent_ = true;  // read() asks whether the device is still there at the end
      else
        failed(name, target.error());
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

  // One read of uevent: ids, class and driver (pci_uevent.h), or false when the attribute files
  // must be read instead. A malformed line is a finding; a missing file or line is not.
  bool read_uevent(PciDevice& d) {
    auto content = raw("uevent", true);
    if (!content) return false;
    const PciUevent uevent = parse_pci_uevent(*content);
    for (const auto& line : uevent.odd_lines) {
      note("uevent",
           fmt::format("unexpected line '{}'; reading the attribute files instead", line));
    }
    if (!uevent.ids) return false;
    d.ids = *uevent.ids;
    d.driver = uevent.driver;
    return true;
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
    sriov.total_vfs = parse_whole_number<unsigned>(*total, 10).value_or(0);
    if (auto enabled = text_attribute("sriov_numvfs")) {
      sriov.enabled_vfs = parse_whole_number<unsigned>(*enabled, 10).value_or(0);
    }
    if (auto autoprobe = optional_text("sriov_drivers_autoprobe")) {
      const auto value = parse_whole_number<unsigned>(*autoprobe, 10);
      if (value && *value <= 1) {
        sriov.drivers_autoprobe = *value == 1;
      } else {
        note("sriov_drivers_autoprobe", fmt::format("unexpected value '{}'", *autoprobe));
      }
    }
    if (auto offset = optional_text("sriov_offset"))
      sriov.offset = parse_whole_number<unsigned>(*offset, 10);
    if (auto stride = optional_text("sriov_stride"))
      sriov.stride = parse_whole_number<unsigned>(*stride, 10);
    auto entries = sysfs_.list(device_path_);
    if (!entries) {
      failed("", entries.error());
      return;
    }
    std::vector<std::pair<unsigned, PciAddress>> vfs;
    for (const auto& entry : *entries) {
      if (entry.rfind("virtfn", 0) != 0) continue;
      auto index = parse_whole_number<unsigned>(std::string_view(entry).substr(6), 10);
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
  ObserveDetail detail_;
  bool held_;            // its group's VFIO node is held open: driver_override is not read
  SysPath device_path_;  // bus/pci/devices/<address>
  std::vector<Finding>& findings_;
  bool vanished_ = false;
  bool absent_ = false;  // an optional attribute or link was not there (ENOENT)
};

}  // namespace

DeviceRead read_device(Sysfs& sysfs, const PciAddress& address, ObserveDetail detail, bool held) {
  DeviceRead out;
  DeviceReader reader(sysfs, address, detail, held, out.findings);
  out.device = reader.read();
  out.vanished = reader.vanished();
  return out;
}

}  // namespace vfio

namespace vfio {

std::optional<unsigned> read_iommu_group_link(Sysfs& sysfs, const PciAddress& address) {
  auto target = sysfs.read_link(paths::pci_device_file(address, "iommu_group"));
  if (!target) return std::nullopt;
  return parse_whole_number<unsigned>(link_leaf(*target), 10);
}

}  // namespace vfio
