#include "observe/observe.h"

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <charconv>
#include <exception>
#include <iterator>
#include <mutex>
#include <optional>
#include <set>
#include <string_view>
#include <system_error>
#include <thread>
#include <vector>

#include <fmt/format.h>

#include "observe/host_context.h"
#include "observe/pci_id_database.h"
#include "sysfs/kernel_names.h"
#include "sysfs/sysfs.h"
#include "util/hex.h"

namespace vfio {
namespace {

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.back() == '\n' || s.back() == ' ' || s.back() == '\t'))
    s.remove_suffix(1);
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  return s;
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

// Runs f(0) ... f(n - 1), on several threads when there is enough work: every call reads sysfs
// (a few syscalls per attribute), so a large host reads in a fraction of the time on as many
// cores. Each index is handled by exactly one call; callers merge results in index order, so
// the outcome never depends on the threads. The first exception is rethrown after all joined.
template <class F>
void for_each_index(std::size_t n, const F& f) {
  constexpr std::size_t kParallelFrom = 256;  // below this, threads cost more than they save
  constexpr std::size_t kChunk = 32;
  constexpr unsigned kMaxThreads = 4;
  const unsigned threads =
      n < kParallelFrom ? 1u : std::clamp(std::thread::hardware_concurrency(), 1u, kMaxThreads);
  if (threads <= 1) {
    for (std::size_t i = 0; i < n; ++i) f(i);
    return;
  }
  std::atomic<std::size_t> next{0};
  std::mutex error_mutex;
  std::exception_ptr error;
  auto work = [&] {
    try {
      for (;;) {
        const std::size_t start = next.fetch_add(kChunk);
        if (start >= n) return;
        for (std::size_t i = start; i < std::min(n, start + kChunk); ++i) f(i);
      }
    } catch (...) {
      std::lock_guard lock(error_mutex);
      if (!error) error = std::current_exception();
      next = n;
    }
  };
  std::vector<std::thread> pool;
  for (unsigned t = 1; t < threads; ++t) {
    try {
      pool.emplace_back(work);
    } catch (const std::system_error&) {
      break;  // no more threads to be had: the ones running (and this one) do the work
    }
  }
  work();
  for (auto& thread : pool) thread.join();
  if (error) std::rethrow_exception(error);
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
    read_kind(d);
    if (!from_uevent) d.driver = optional_link_name("driver");
    if (held_) {
      d.driver_override_unread = true;
    } else if (auto text = text_attribute("driver_override"); text && *text != kUnsetOverride) {
      d.driver_override = std::string(*text);
    }
    if (auto group = optional_link_name("iommu_group")) {
      d.iommu_group = parse_number<unsigned>(*group, 10);
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
    if (detail_ == ObserveDetail::Full) read_status_only(d);
    // Optional attributes that were absent: absent from a device that is still here (asked
    // once, not after each one), or the device left while being read.
    if (absent_ && !vanished_ && device_gone()) vanished_ = true;
    return d;
  }

 private:
  // What only `status` shows: NUMA node, slot label, the PF of a VF, SR-IOV.
  void read_status_only(PciDevice& d) {
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

  // The kernel's PCI uevent (dev_uevent, then pci_uevent):
  //   DRIVER=e1000e            (only while a driver is bound)
  //   PCI_CLASS=20000          (%04X of the 24-bit class)
  //   PCI_ID=8086:10D3
  //   PCI_SUBSYS_ID=8086:0000
  //   PCI_SLOT_NAME=0000:02:00.0
  //   MODALIAS=pci:v...
  // Fills ids, class and driver and returns true when PCI_ID, PCI_SUBSYS_ID and PCI_CLASS are
  // all there and parse (and DRIVER=, if there, names a driver). Otherwise returns false and the
  // caller reads the attribute files: a malformed line is a finding, a missing file or line not.
  bool read_uevent(PciDevice& d) {
    auto content = raw("uevent", true);
    if (!content) return false;
    // Plain values and flags, not optional<pair>: g++ 12 warns (maybe-uninitialized) on those.
    uint32_t vendor = 0, device = 0, subsystem_vendor = 0, subsystem_device = 0, class_code = 0;
    bool have_id = false, have_subsystem = false, have_class = false, malformed = false;
    std::optional<std::string> driver;
    auto odd = [&](std::string_view line) {
      note("uevent",
           fmt::format("unexpected line '{}'; reading the attribute files instead", line));
      malformed = true;
    };
    // "8086:10D3": two 16-bit hex numbers.
    auto id_pair = [](std::string_view text, uint32_t& first, uint32_t& second) {
      auto colon = text.find(':');
      if (colon == std::string_view::npos) return false;
      auto a = parse_hex(text.substr(0, colon));
      auto b = parse_hex(text.substr(colon + 1));
      if (!a || !b || *a > 0xffff || *b > 0xffff) return false;
      first = *a;
      second = *b;
      return true;
    };
    std::string_view rest(*content);
    while (!rest.empty()) {
      auto newline = rest.find('\n');
      std::string_view line = rest.substr(0, newline);
      rest.remove_prefix(newline == std::string_view::npos ? rest.size() : newline + 1);
      auto equals = line.find('=');
      if (equals == std::string_view::npos) continue;
      const std::string_view key = line.substr(0, equals);
      const std::string_view value = line.substr(equals + 1);
      if (key == "PCI_ID") {
        if (!(have_id = id_pair(value, vendor, device))) odd(line);
      } else if (key == "PCI_SUBSYS_ID") {
        if (!(have_subsystem = id_pair(value, subsystem_vendor, subsystem_device))) odd(line);
      } else if (key == "PCI_CLASS") {
        auto parsed = value.size() <= 6 ? parse_hex(value) : std::nullopt;
        if (!(have_class = parsed.has_value())) odd(line);
        class_code = parsed.value_or(0);
      } else if (key == "DRIVER") {
        if (SysPath::is_valid_component(value))
          driver = std::string(value);
        else
          odd(line);
      }
    }
    if (malformed || !have_id || !have_subsystem || !have_class) return false;
    d.ids.vendor = static_cast<uint16_t>(vendor);
    d.ids.device = static_cast<uint16_t>(device);
    d.ids.subsystem_vendor = static_cast<uint16_t>(subsystem_vendor);
    d.ids.subsystem_device = static_cast<uint16_t>(subsystem_device);
    d.ids.class_code = class_code;
    d.driver = std::move(driver);
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
    sriov.total_vfs = parse_number<unsigned>(*total, 10).value_or(0);
    if (auto enabled = text_attribute("sriov_numvfs")) {
      sriov.enabled_vfs = parse_number<unsigned>(*enabled, 10).value_or(0);
    }
    auto entries = sysfs_.list(device_path_);
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
  ObserveDetail detail_;
  bool held_;            // its group's VFIO node is held open: driver_override is not read
  SysPath device_path_;  // bus/pci/devices/<address>
  std::vector<Finding>& findings_;
  bool vanished_ = false;
  bool absent_ = false;  // an optional attribute or link was not there (ENOENT)
};

struct DeviceResult {
  PciDevice device;
  std::vector<Finding> findings;
  bool vanished = false;
};

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
  for (std::size_t i = 0; i < entries.size(); ++i) ids[i] = parse_number<unsigned>(entries[i], 10);

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

HostSnapshot observe(Sysfs& sysfs, const PciIdDatabase* names, ObserveDetail detail, Sysfs* proc) {
  HostSnapshot snapshot;
  // Groups first: a member that vanishes while the devices are read is then still listed by its
  // group, and the planner can refuse to claim the rest of a group it cannot see whole.
  read_groups(sysfs, snapshot);
  // Then who holds which group open: reading a held device's driver_override blocks while an
  // unbind of it waits for the holder, so the members of held groups are read without it.
  const VfioHolders holders = read_vfio_holders(sysfs, proc);
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
  std::vector<DeviceResult> results(entries->size());
  for_each_index(entries->size(), [&](std::size_t i) {
    if (!addresses[i]) return;
    DeviceReader reader(sysfs, *addresses[i], detail, held.count(*addresses[i]) > 0,
                        results[i].findings);
    results[i].device = reader.read();
    results[i].vanished = reader.vanished();
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
    PciDevice device = std::move(r.device);
    if (names) device.names = names->lookup(device.ids);
    snapshot.devices.push_back(std::move(device));
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
