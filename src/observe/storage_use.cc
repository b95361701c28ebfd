#include "observe/storage_use.h"

#include <cerrno>
#include <map>
#include <optional>
#include <set>
#include <string>

#include <fmt/format.h>

#include "observe/class_devices.h"
#include "sysfs/kernel_names.h"
#include "sysfs/sysfs.h"
#include "util/text_fields.h"

namespace vfio {
namespace {

constexpr std::size_t kProcFileLimit = 4 << 20;  // a container host can have many mounts

struct Mount {
  std::string device;  // "259:2"
  std::string source;  // "/dev/nvme0n1p2"
  std::string target;  // "/boot"
};

// The kernel writes ' ', '\t', '\n' and '\\' in paths as three octal digits ("\040").
std::string unescape(std::string_view text) {
  std::string out;
  for (std::size_t i = 0; i < text.size(); ++i) {
    if (text[i] == '\\' && i + 3 < text.size()) {
      const auto digit = [&](std::size_t k) { return text[i + k] >= '0' && text[i + k] <= '7'; };
      if (digit(1) && digit(2) && digit(3)) {
        out += static_cast<char>((text[i + 1] - '0') * 64 + (text[i + 2] - '0') * 8 +
                                 (text[i + 3] - '0'));
        i += 3;
        continue;
      }
    }
    out += text[i];
  }
  return out;
}

// mountinfo: "ID PARENT MAJ:MIN ROOT TARGET OPTIONS [OPTIONAL...] - FSTYPE SOURCE SUPER".
std::vector<Mount> parse_mountinfo(std::string_view text) {
  std::vector<Mount> out;
  for_each_line(text, [&](std::string_view line) {
    const auto f = text_fields(line);
    std::size_t dash = 6;
    while (dash < f.size() && f[dash] != "-") ++dash;
    if (f.size() < 6 || dash + 2 >= f.size()) return;
    out.push_back({std::string(f[2]), unescape(f[dash + 2]), unescape(f[4])});
  });
  return out;
}

// swaps: "Filename Type Size Used Priority", a header line first.
std::vector<std::string> parse_swaps(std::string_view text) {
  std::vector<std::string> out;
  bool header = true;
  for_each_line(text, [&](std::string_view line) {
    if (std::exchange(header, false)) return;
    const auto f = text_fields(line);
    if (!f.empty()) out.push_back(unescape(f[0]));
  });
  return out;
}

struct Block {
  std::vector<PciAddress> devices;  // the PCI functions it lies below
  std::string link;
};

class StorageScan {
 public:
  StorageScan(Sysfs& sysfs, KernelFiles* proc, std::vector<Finding>& findings)
      : sysfs_(sysfs), proc_(proc), findings_(findings) {}

  HazardsByDevice run() {
    HazardsByDevice out;
    for (auto& d : class_devices(sysfs_, "block", findings_)) {
      Block& b = blocks_[d.name];
      if (d.device) b.devices.push_back(*d.device);
      b.link = std::move(d.link);
    }
    for (auto& [name, b] : blocks_) {
      if (b.devices.empty()) b.devices = owners_of_virtual(name, b.link);
    }
    bool any = false;
    for (const auto& [name, b] : blocks_) any = any || !b.devices.empty();
    if (!any) return out;
    if (proc_) read_proc();

    std::map<PciAddress, std::vector<std::string>> found;
    for (const auto& [name, b] : blocks_) {
      if (b.devices.empty()) continue;
      std::vector<std::string> uses = uses_of(name);
      for (const auto& holder : holders_of(name)) {
        std::set<std::string> seen{name};
        uses.push_back(fmt::format("{} held by {}", name, held_by(holder, seen)));
      }
      for (const auto& device : b.devices)
        found[device].insert(found[device].end(), uses.begin(), uses.end());
    }
    for (const auto& [device, uses] : found) {
      if (uses.empty()) continue;
      out[device].push_back(
          Hazard{Hazard::Kind::StorageInUse, fmt::format("storage: {}", fmt::join(uses, ", "))});
    }
    return out;
  }

 private:
  // A partition of a virtual disk belongs where the disk does; an NVMe multipath head
  // (devices/virtual/nvme-subsystem/...) to the controllers of its paths.
  std::vector<PciAddress> owners_of_virtual(const std::string& name, const std::string& link) {
    const std::string_view parent = link_leaf(
        std::string_view(link).substr(0, link.size() - std::min(link.size(), name.size() + 1)));
    if (auto it = blocks_.find(std::string(parent)); it != blocks_.end() && it->first != name) {
      if (!it->second.devices.empty()) return it->second.devices;
      return owners_of_virtual(it->first, it->second.link);
    }
    std::vector<PciAddress> out;
    auto paths = sysfs_.list(class_file("block", name, "multipath"));
    if (!paths) return out;
    for (const auto& path : *paths) {
      if (!SysPath::is_valid_component(path)) continue;
      auto target = sysfs_.read_link(SysPath() / "class" / "block" / name / "multipath" / path);
      if (!target) continue;
      if (auto device = pci_device_in(*target)) out.push_back(*device);
    }
    return out;
  }

  void read_proc() {
    auto read = [&](const SysPath& path) -> std::optional<std::string> {
      auto text = proc_->read(path, kProcFileLimit);
      if (text) return std::move(text).value();
      findings_.emplace_back(
          Finding::Kind::Unreadable, proc_->display(path),
          fmt::format("cannot {}; disks in use are not known", text.error().to_string()));
      return std::nullopt;
    };
    if (auto text = read(SysPath() / "self" / "mountinfo")) mounts_ = parse_mountinfo(*text);
    if (auto text = read(SysPath() / "swaps")) swaps_ = parse_swaps(*text);
  }

  std::string attribute(const std::string& name, std::string_view file) {
    auto text = sysfs_.read(class_file("block", name, file));
    return text ? std::string(trim(*text)) : std::string();
  }
  std::string dm_name(const std::string& name) {
    auto text = sysfs_.read(SysPath() / "class" / "block" / name / "dm" / "name");
    return text ? std::string(trim(*text)) : std::string();
  }

  std::vector<std::string> holders_of(const std::string& name) {
    auto entries = sysfs_.list(class_file("block", name, "holders"));
    if (!entries) return {};
    std::vector<std::string> out;
    for (const auto& e : *entries)
      if (SysPath::is_valid_component(e)) out.push_back(e);
    std::sort(out.begin(), out.end());
    return out;
  }

  // How `name` is used directly: "/boot mounted from nvme0n1p1", "swap on nvme0n1p3".
  std::vector<std::string> uses_of(const std::string& name) {
    const std::string dev = attribute(name, "dev");
    const std::string mapper = dm_name(name);
    auto is_this = [&](const std::string& source) {
      return source == "/dev/" + name || (!mapper.empty() && source == "/dev/mapper/" + mapper);
    };
    std::vector<std::string> out;
    std::set<std::string> targets;
    for (const auto& m : mounts_) {
      if (((!dev.empty() && m.device == dev) || is_this(m.source)) &&
          targets.insert(m.target).second)
        out.push_back(fmt::format("{} mounted from {}", m.target, name));
    }
    for (const auto& s : swaps_) {
      if (is_this(s)) out.push_back(fmt::format("swap on {}", name));
    }
    return out;
  }

  // "dm-0 (vg0-root), / mounted from dm-0"; holders of holders follow.
  std::string held_by(const std::string& holder, std::set<std::string>& seen) {
    const std::string mapper = dm_name(holder);
    std::string text = mapper.empty() ? holder : fmt::format("{} ({})", holder, mapper);
    if (!seen.insert(holder).second) return text;
    for (const auto& use : uses_of(holder)) text += ", " + use;
    for (const auto& upper : holders_of(holder)) text += ", held by " + held_by(upper, seen);
    return text;
  }

  Sysfs& sysfs_;
  KernelFiles* proc_;
  std::vector<Finding>& findings_;
  std::map<std::string, Block> blocks_;
  std::vector<Mount> mounts_;
  std::vector<std::string> swaps_;
};

}  // namespace

HazardsByDevice find_storage_use(Sysfs& sysfs, KernelFiles* proc, std::vector<Finding>& findings) {
  return StorageScan(sysfs, proc, findings).run();
}

}  // namespace vfio
